import pino, { type DestinationStream, type Logger } from "pino";

/**
 * Paths pino censors wherever they appear in a log object: tokens, passwords and UIA auth dicts
 * must never reach a log line (matrix-js-sdk sanitises its logs the same way).
 */
export const REDACTED_PATHS = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "access_token",
  "*.access_token",
  "password",
  "*.password",
  "auth",
  "*.auth",
  "token",
  "*.token",
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: "matrix-device-gateway" },
    redact: { paths: REDACTED_PATHS, censor: "[REDACTED]" },
  };
  return destination ? pino(options, destination) : pino(options);
}
