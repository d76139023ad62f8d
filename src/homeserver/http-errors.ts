/**
 * How the homeserver's answers and transport failures become typed errors, and which of them are
 * failures (for the breaker) or safe to send again (for retries).
 */
import type { Dispatcher } from "undici";
import {
  type AuthFlow,
  HomeserverError,
  HomeserverTimeout,
  HomeserverUnreachable,
  MatrixError,
  UiaChallenge,
} from "./errors.ts";

type JsonObject = Record<string, unknown>;

/** Statuses a gateway or load balancer answers when the homeserver behind it is down. */
export const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);
/** Transport failures after which an idempotent request may safely be sent again. */
const RESET_ERROR_CODES = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);
const TIMEOUT_ERROR_CODES = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `Retry-After` is seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterHeaderMs(header: string | string[] | undefined): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

export function toMatrixError(
  status: number,
  headers: Dispatcher.ResponseData["headers"],
  body: unknown,
) {
  if (status === 401 && isObject(body) && Array.isArray(body.flows)) {
    return new UiaChallenge(
      typeof body.session === "string" ? body.session : null,
      body.flows.filter(isObject).map(
        (flow): AuthFlow => ({
          stages: Array.isArray(flow.stages)
            ? flow.stages.filter((s): s is string => typeof s === "string")
            : [],
        }),
      ),
      Array.isArray(body.completed)
        ? body.completed.filter((s): s is string => typeof s === "string")
        : [],
      isObject(body.params) ? body.params : {},
      typeof body.errcode === "string" ? body.errcode : null,
      typeof body.error === "string" ? body.error : null,
    );
  }
  const errcode = isObject(body) && typeof body.errcode === "string" ? body.errcode : "M_UNKNOWN";
  const message =
    isObject(body) && typeof body.error === "string" ? body.error : `HTTP status ${status}`;
  const bodyRetry =
    isObject(body) && typeof body.retry_after_ms === "number" && body.retry_after_ms >= 0
      ? Math.round(body.retry_after_ms)
      : null;
  return new MatrixError(
    status,
    errcode,
    message,
    retryAfterHeaderMs(headers["retry-after"]) ?? bodyRetry,
  );
}

/** The homeserver is in trouble (not: it answered and said no). */
export function isFailure(error: HomeserverError): boolean {
  return error instanceof HomeserverUnreachable || error instanceof HomeserverTimeout;
}

/** Safe to send again: a proxy's 502/503/504 or a reset connection, never a refusal or timeout. */
export function isRetriable(error: HomeserverError): boolean {
  if (!(error instanceof HomeserverUnreachable)) return false;
  const cause = error.cause as { code?: unknown; status?: unknown } | null;
  if (typeof cause?.status === "number") return true;
  return typeof cause?.code === "string" && RESET_ERROR_CODES.has(cause.code);
}

export function toTransportError(error: unknown, timeoutMs: number): HomeserverError {
  if (error instanceof HomeserverError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "TimeoutError" || (typeof code === "string" && TIMEOUT_ERROR_CODES.has(code))) {
    return new HomeserverTimeout(timeoutMs);
  }
  return new HomeserverUnreachable(error);
}
