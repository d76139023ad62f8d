/**
 * HTTP plumbing of the fake homeserver: Matrix error bodies, body reading and parsing the way
 * Synapse does it, and a tiny router matching raw (still percent-encoded) path segments.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** What a handler answers; `body: null` sends no body (204, HEAD). */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Thrown by handlers to answer early; `body` is sent as is (an errcode body or a UIA challenge). */
export class MatrixHttpError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  constructor(status: number, body: Record<string, unknown>) {
    super(typeof body.error === "string" ? body.error : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export function ok(body: unknown): Reply {
  return { status: 200, body };
}

/** A `{errcode, error}` error, the shape every Matrix error body has. */
export function matrixError(
  status: number,
  errcode: string,
  error: string,
  extra: Record<string, unknown> = {},
): MatrixHttpError {
  return new MatrixHttpError(status, { errcode, error, ...extra });
}

/** Synapse's answer for paths no servlet claims (404) or methods a servlet lacks (405). */
export function unrecognized(status: 404 | 405 = 404): MatrixHttpError {
  return matrixError(status, "M_UNRECOGNIZED", "Unrecognized request");
}

/**
 * Decodes one path segment once, like Python's `urllib.parse.unquote` that Synapse applies to
 * path parameters: valid %XX runs become UTF-8 (invalid bytes become U+FFFD), anything else is
 * kept literally, so a malformed escape never throws.
 */
export function unquote(segment: string): string {
  return segment.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) =>
    Buffer.from(run.replaceAll("%", ""), "hex").toString("utf8"),
  );
}

/** Reads the whole body; past `limit` bytes it keeps draining (so the client can read our 413). */
export function readBody(
  req: IncomingMessage,
  limit: number,
): Promise<{ text: string; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("end", () =>
      resolve({ text: Buffer.concat(chunks).toString("utf8"), tooLarge: size > limit }),
    );
    req.on("error", reject);
  });
}

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Synapse's `parse_json_object_from_request`: not JSON (an empty body included, unless
 * allowed) is 400 M_NOT_JSON, JSON that is not an object is 400 M_BAD_JSON.
 */
export function parseJsonObject(text: string, allowEmpty = false): JsonObject {
  if (text === "" && allowEmpty) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw matrixError(400, "M_NOT_JSON", "Content not JSON.");
  }
  if (!isJsonObject(value)) throw matrixError(400, "M_BAD_JSON", "Content must be a JSON object.");
  return value;
}

/** What the log keeps of a body: parsed JSON when it parses, else the raw text, null if empty. */
export function loggedBody(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Synapse sends these on every answer so browsers may call it directly. */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, DELETE, OPTIONS",
  "Access-Control-Allow-Headers": "X-Requested-With, Content-Type, Authorization, Date",
};

export function sendReply(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...CORS_HEADERS, ...reply.headers };
  if (reply.body === null) {
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Everything a handler may look at; `params` are decoded once, the path stays raw. */
export interface RouteContext {
  method: string;
  rawPath: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** every Authorization header as sent (Synapse refuses more than one) */
  authorization: string[];
  userAgent: string | null;
  remoteAddress: string;
  bodyText: string;
}

export type Handler = (ctx: RouteContext) => Reply;

export interface Route {
  /** e.g. "/_matrix/client/v3/devices/{deviceId}"; a `{name}` matches one whole segment */
  path: string;
  methods: Readonly<Record<string, Handler>>;
  /** a route that is not available is treated as absent (like an unregistered servlet) */
  available?: () => boolean;
}

/** Matches segment by segment: literals compare raw, parameters are decoded once. */
export function matchRoute(
  routes: readonly Route[],
  rawPath: string,
): { route: Route; params: Record<string, string> } | null {
  const segments = rawPath.split("/");
  for (const route of routes) {
    if (route.available && !route.available()) continue;
    const pattern = route.path.split("/");
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matched = pattern.every((part, i) => {
      const segment = segments[i] ?? "";
      if (part.startsWith("{") && part.endsWith("}")) {
        params[part.slice(1, -1)] = unquote(segment);
        return true;
      }
      return part === segment;
    });
    if (matched) return { route, params };
  }
  return null;
}
