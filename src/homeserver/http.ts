import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import { type Dispatcher, Pool } from "undici";
import {
  type AuthFlow,
  HomeserverBadResponse,
  HomeserverError,
  HomeserverTimeout,
  HomeserverUnreachable,
  MatrixError,
  UiaChallenge,
} from "./errors.ts";

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
}

export interface CallOptions {
  /** The caller's access token; sent as a Bearer header, never logged. */
  token?: string;
  body?: JsonObject;
  query?: Record<string, string | number | undefined>;
  /** Told the response headers of a 2xx answer (e.g. to honour its Cache-Control). */
  onHeaders?: (headers: Dispatcher.ResponseData["headers"]) => void;
}

/** Statuses a gateway or load balancer answers when the homeserver behind it is down. */
const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);
const TIMEOUT_ERROR_CODES = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

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

function isObject(value: unknown): value is JsonObject {
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

function toMatrixError(status: number, headers: Dispatcher.ResponseData["headers"], body: unknown) {
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

function toTransportError(error: unknown, timeoutMs: number): HomeserverError {
  if (error instanceof HomeserverError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "TimeoutError" || (typeof code === "string" && TIMEOUT_ERROR_CODES.has(code))) {
    return new HomeserverTimeout(timeoutMs);
  }
  return new HomeserverUnreachable(error);
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
        connections: 64,
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
    const started = performance.now();
    logger.debug({ upstream: { method, endpoint: template } }, `--> ${method} ${template}`);
    try {
      const response = await this.dispatcher.request({
        origin: this.origin,
        path,
        method,
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.body.text();
      const ms = Math.round(performance.now() - started);
      logger.debug(
        { upstream: { method, endpoint: template, status: response.statusCode, ms } },
        `<-- ${response.statusCode} ${ms} ms`,
      );
      const parsed = this.parse(response.statusCode, response.headers, text);
      options.onHeaders?.(response.headers);
      return parsed;
    } catch (error) {
      const typed = toTransportError(error, timeoutMs);
      if (!(typed instanceof MatrixError || typed instanceof UiaChallenge)) {
        const ms = Math.round(performance.now() - started);
        logger.debug(
          { upstream: { method, endpoint: template, error: typed.code, ms } },
          `<-- ${typed.code} ${ms} ms`,
        );
      }
      throw typed;
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
      throw new HomeserverUnreachable(new Error(`HTTP status ${status}`));
    }
    throw toMatrixError(status, headers, body);
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}
