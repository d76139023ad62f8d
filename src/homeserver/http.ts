import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import { type Dispatcher, Pool } from "undici";
import { HomeserverErrorCode } from "../error-codes.ts";
import {
  HomeserverBadResponse,
  HomeserverCircuitOpen,
  HomeserverError,
  HomeserverTimeout,
  HomeserverUnreachable,
  MatrixError,
} from "./errors.ts";
import {
  isFailure,
  isObject,
  isRetriable,
  toMatrixError,
  toTransportError,
  UNAVAILABLE_STATUSES,
} from "./http-errors.ts";
import { backoffMs, type CircuitBreaker, sleep } from "./resilience.ts";

export type Method = "GET" | "PUT" | "POST" | "DELETE";
export type JsonObject = Record<string, unknown>;

export interface HomeserverHttpOptions {
  /** Base URL of the homeserver, without a trailing slash. */
  baseUrl: string;
  /** Deadline of one call: connect, headers and body each, and the whole call. */
  timeoutMs: number;
  logger: Logger;
  /** Injected in tests; otherwise one keep-alive undici Pool per homeserver. */
  dispatcher?: Dispatcher;
  /** Most connections of the pool (default 32). */
  connections?: number;
  /** Retries of GET/PUT after 502/503/504 or a connection reset (default 2). */
  retries?: number;
  /** Deadline of one logical call, retries and waits included (default 1.5 × timeoutMs). */
  budgetMs?: number;
  /** Longest 429 wait sat out here before one retry; longer waits are the caller's (default 500). */
  rateLimitMaxWaitMs?: number;
  /** Fails calls fast while the homeserver keeps failing. */
  breaker?: CircuitBreaker;
  /** Told about every attempt (metrics, per-request counts). */
  onAttempt?: (attempt: UpstreamAttempt) => void;
}

/** One HTTP attempt at the homeserver, as metrics see it. */
export interface UpstreamAttempt {
  method: Method;
  /** The path template, e.g. `/_matrix/client/v3/devices/{deviceId}`: bounded label values. */
  endpoint: string;
  /** The HTTP status, or the transport error code (HS_TIMEOUT, HS_UNREACHABLE, BREAKER_OPEN). */
  outcome: string;
  seconds: number;
}

export interface CallOptions {
  /** The caller's access token; sent as a Bearer header, never logged. */
  token?: string;
  body?: JsonObject;
  query?: Record<string, string | number | undefined>;
  /** Told the response headers of a 2xx answer (e.g. to honour its Cache-Control). */
  onHeaders?: (headers: Dispatcher.ResponseData["headers"]) => void;
}

const IDEMPOTENT = new Set<Method>(["GET", "PUT"]);

/**
 * Fills a path template such as `/devices/{deviceId}` with percent-encoded values, so an opaque
 * id like `../../x` or `a/b` stays one path segment.
 */
export function fillPath(template: string, params: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`path parameter ${name} missing for ${template}`);
    return encodeURIComponent(value);
  });
}

/**
 * The homeserver's HTTP edge: one pool, JSON in and out, every failure typed, every call logged
 * as `--> GET /devices/{deviceId}` / `<-- 200 12 ms` (the template, never a token or a body).
 */
export class HomeserverHttp {
  readonly baseUrl: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;

  constructor(private readonly options: HomeserverHttpOptions) {
    const url = new URL(options.baseUrl);
    this.baseUrl = options.baseUrl;
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, "");
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      new Pool(this.origin, {
        connections: options.connections ?? 32,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connect: { timeout: options.timeoutMs },
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      });
  }

  /** Calls `template` (e.g. `/_matrix/client/v3/devices/{deviceId}`) and returns its JSON object. */
  async call(
    method: Method,
    template: string,
    params: Record<string, string>,
    options: CallOptions = {},
  ): Promise<JsonObject> {
    const { logger, timeoutMs } = this.options;
    let path = this.basePath + fillPath(template, params);
    if (options.query) {
      const query = new URLSearchParams();
      for (const [key, value] of Object.entries(options.query)) {
        if (value !== undefined) query.set(key, String(value));
      }
      const search = query.toString();
      if (search) path += `?${search}`;
    }
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] = "application/json";
    }
    const budgetMs = this.options.budgetMs ?? Math.round(timeoutMs * 1.5);
    const retries = IDEMPOTENT.has(method) ? (this.options.retries ?? 2) : 0;
    const maxWait = this.options.rateLimitMaxWaitMs ?? 500;
    const breaker = this.options.breaker;
    const deadline = performance.now() + budgetMs;
    let failures = 0;
    let rateLimited = false;
    for (;;) {
      if (breaker && !breaker.tryAcquire()) {
        this.options.onAttempt?.({
          method,
          endpoint: template,
          outcome: "BREAKER_OPEN",
          seconds: 0,
        });
        throw new HomeserverCircuitOpen();
      }
      const remaining = deadline - performance.now();
      let outcome: HomeserverError | JsonObject;
      try {
        outcome = await this.attempt(
          method,
          template,
          path,
          headers,
          body,
          remaining,
          options.onHeaders,
        );
      } catch (error) {
        breaker?.release();
        throw error;
      }
      if (!(outcome instanceof HomeserverError)) {
        breaker?.success();
        return outcome;
      }
      const failed = isFailure(outcome);
      if (failed) breaker?.failure();
      else breaker?.success();
      const left = deadline - performance.now();
      if (failed && failures < retries && isRetriable(outcome)) {
        const wait = backoffMs(failures);
        failures += 1;
        if (wait < left) {
          await sleep(wait);
          continue;
        }
      }
      if (
        outcome instanceof MatrixError &&
        outcome.status === 429 &&
        !rateLimited &&
        // Without a hint there is no short wait to sit out: the caller gets RateLimited.
        outcome.retryAfterMs !== null &&
        outcome.retryAfterMs <= maxWait &&
        outcome.retryAfterMs < left
      ) {
        rateLimited = true;
        logger.debug(
          { upstream: { method, endpoint: template, waitMs: outcome.retryAfterMs } },
          "rate limited; waiting once",
        );
        await sleep(outcome.retryAfterMs);
        continue;
      }
      throw outcome;
    }
  }

  /** One HTTP attempt within `remainingMs`: the JSON object, or the typed error to act on. */
  private async attempt(
    method: Method,
    template: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    remainingMs: number,
    onHeaders: CallOptions["onHeaders"],
  ): Promise<JsonObject | HomeserverError> {
    const { logger, timeoutMs } = this.options;
    const started = performance.now();
    let reported = false;
    const report = (outcome: string) => {
      reported = true;
      const seconds = (performance.now() - started) / 1000;
      this.options.onAttempt?.({ method, endpoint: template, outcome, seconds });
      return Math.round(seconds * 1000);
    };
    if (remainingMs <= 0) {
      report(HomeserverErrorCode.Timeout);
      return new HomeserverTimeout(timeoutMs);
    }
    logger.debug({ upstream: { method, endpoint: template } }, `--> ${method} ${template}`);
    // Not AbortSignal.timeout: its timer outlives the answer (thousands pending under load, each
    // registered for finalization); this one is cleared as soon as the body is read.
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new DOMException("upstream deadline passed", "TimeoutError")),
      Math.min(timeoutMs, Math.ceil(remainingMs)),
    );
    try {
      const response = await this.dispatcher.request({
        origin: this.origin,
        path,
        method,
        headers,
        body,
        signal: deadline.signal,
      });
      const text = await response.body.text();
      const ms = report(String(response.statusCode));
      logger.debug(
        { upstream: { method, endpoint: template, status: response.statusCode, ms } },
        `<-- ${response.statusCode} ${ms} ms`,
      );
      const parsed = this.parse(response.statusCode, response.headers, text);
      onHeaders?.(response.headers);
      return parsed;
    } catch (error) {
      const typed = toTransportError(error, timeoutMs);
      if (!reported) {
        const ms = report(typed.code);
        logger.debug(
          { upstream: { method, endpoint: template, error: typed.code, ms } },
          `<-- ${typed.code} ${ms} ms`,
        );
      }
      if (typed instanceof HomeserverError) return typed;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private parse(status: number, headers: Dispatcher.ResponseData["headers"], text: string) {
    let body: unknown = null;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch {
      body = null;
    }
    if (status >= 200 && status < 300) {
      if (!isObject(body)) throw new HomeserverBadResponse(`HTTP ${status} without a JSON object`);
      return body;
    }
    if (UNAVAILABLE_STATUSES.has(status) && !(isObject(body) && typeof body.errcode === "string")) {
      throw new HomeserverUnreachable(
        Object.assign(new Error(`HTTP status ${status}`), { status }),
      );
    }
    throw toMatrixError(status, headers, body);
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}
