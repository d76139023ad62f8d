/** The gateway's configuration: the environment, parsed and checked once at start. */
export interface Config {
  homeserverUrl: string;
  port: number;
  host: string;
  databaseUrl: string;
  logLevel: string;
  upstreamTimeoutMs: number;
  whoamiTtlS: number;
  staleIdentityTtlS: number;
  bodyLimitBytes: number;
  maxBulkDevices: number;
  adminConcurrency: number;
  graphiql: boolean;
  introspection: boolean;
  corsOrigins: string[];
  retentionDays: number;
  /** CACHE=off runs without the last-seen cache (no database at all). */
  cache: boolean;
  /** Retries of an idempotent call (GET, PUT) after a 502/503/504 or a connection reset. */
  upstreamRetries: number;
  /** Total time one logical upstream call may take, retries and waits included. */
  upstreamRetryBudgetMs: number;
  /** Longest 429 wait the gateway sits out itself (then retries once); longer = RateLimited. */
  rateLimitMaxWaitMs: number;
  /** Consecutive failed upstream calls that open the circuit breaker. */
  breakerFailureThreshold: number;
  /** How long an open breaker fails fast before letting one probe call through. */
  breakerCooldownMs: number;
  /** Most concurrent connections to the homeserver. */
  upstreamConnections: number;
  /** GraphQL Armor: most aliases, tokens, depth, directives and cost of one operation. */
  maxAliases: number;
  maxTokens: number;
  maxDepth: number;
  maxDirectives: number;
  maxCost: number;
  /** OTLP/HTTP traces endpoint; tracing is off when unset. */
  otlpEndpoint: string | null;
}

/** A bad environment value; its message is the one line printed before exiting. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === "" ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}: expected an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (["1", "true", "on", "yes"].includes(raw)) return true;
  if (["0", "false", "off", "no"].includes(raw)) return false;
  throw new ConfigError(`${name}: expected on/off (true/false, 1/0), got "${raw}"`);
}

/** An http(s) URL, or a ConfigError naming the variable. */
function parseHttpUrl(name: string, raw: string): URL {
  const url = URL.canParse(raw) ? new URL(raw) : null;
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new ConfigError(`${name}: expected an http(s) URL, got "${raw}"`);
  }
  return url;
}

/** A base URL (homeserver, CORS origin): no credentials, query or fragment; no trailing slash. */
function httpUrl(name: string, raw: string): string {
  const url = parseHttpUrl(name, raw);
  if (url.search || url.hash || url.username || url.password) {
    throw new ConfigError(`${name}: expected a base URL without credentials, query or fragment`);
  }
  return url.href.replace(/\/+$/, "");
}

function optionalUrl(env: Env, name: string): string | null {
  const raw = read(env, name);
  return raw === undefined ? null : parseHttpUrl(name, raw).href;
}

function databaseUrl(raw: string): string {
  if (raw.startsWith("file:") || /^postgres(ql)?:\/\//.test(raw)) return raw;
  const scheme = raw.split(":")[0];
  throw new ConfigError(
    `DATABASE_URL: expected file:<path> (SQLite) or postgresql://… (PostgreSQL), got a "${scheme}:" URL`,
  );
}

/** Reads the environment; throws a `ConfigError` naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const homeserver = read(env, "MATRIX_HOMESERVER_URL");
  if (homeserver === undefined) {
    throw new ConfigError(
      "MATRIX_HOMESERVER_URL: required, the homeserver's base URL (e.g. https://matrix.example.org)",
    );
  }
  const logLevel = read(env, "LOG_LEVEL") ?? "info";
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);
  }
  const host = read(env, "HOST") ?? "127.0.0.1";
  return {
    homeserverUrl: httpUrl("MATRIX_HOMESERVER_URL", homeserver),
    port: integer(env, "PORT", 4000, 0, 65535),
    host,
    databaseUrl: databaseUrl(read(env, "DATABASE_URL") ?? "file:./data/gateway.db"),
    logLevel,
    upstreamTimeoutMs: integer(env, "UPSTREAM_TIMEOUT_MS", 10_000, 1, 600_000),
    whoamiTtlS: integer(env, "WHOAMI_TTL_S", 60, 0, 86_400),
    staleIdentityTtlS: integer(env, "STALE_IDENTITY_TTL_S", 300, 0, 86_400),
    bodyLimitBytes: integer(env, "BODY_LIMIT_BYTES", 1_048_576, 1_024, 104_857_600),
    maxBulkDevices: integer(env, "MAX_BULK_DEVICES", 100, 1, 10_000),
    adminConcurrency: integer(env, "ADMIN_CONCURRENCY", 8, 1, 256),
    graphiql: flag(env, "GRAPHIQL", true),
    introspection: flag(env, "INTROSPECTION", true),
    corsOrigins: (read(env, "CORS_ORIGINS") ?? "")
      .split(",")
      .map((origin) => origin.trim())
      .filter((origin) => origin !== "")
      .map((origin) => httpUrl("CORS_ORIGINS", origin)),
    retentionDays: integer(env, "RETENTION_DAYS", 90, 1, 36_500),
    cache: flag(env, "CACHE", true),
    upstreamRetries: integer(env, "UPSTREAM_RETRIES", 2, 0, 10),
    upstreamRetryBudgetMs: integer(env, "UPSTREAM_RETRY_BUDGET_MS", 15_000, 1, 600_000),
    rateLimitMaxWaitMs: integer(env, "RATE_LIMIT_MAX_WAIT_MS", 500, 0, 60_000),
    breakerFailureThreshold: integer(env, "BREAKER_FAILURE_THRESHOLD", 5, 1, 1_000),
    breakerCooldownMs: integer(env, "BREAKER_COOLDOWN_MS", 10_000, 1, 600_000),
    upstreamConnections: integer(env, "UPSTREAM_CONNECTIONS", 32, 1, 1_024),
    maxAliases: integer(env, "MAX_ALIASES", 100, 1, 10_000),
    maxTokens: integer(env, "MAX_TOKENS", 5_000, 100, 1_000_000),
    maxDepth: integer(env, "MAX_DEPTH", 12, 2, 100),
    maxDirectives: integer(env, "MAX_DIRECTIVES", 50, 1, 10_000),
    maxCost: integer(env, "MAX_COST", 20_000, 10, 10_000_000),
    otlpEndpoint: optionalUrl(env, "OTEL_EXPORTER_OTLP_ENDPOINT"),
  };
}
