import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { requestScope } from "./request-scope.ts";

/** What the HTTP layer needs from the GraphQL layer. */
export interface GraphQLHandler {
  requestListener(
    req: IncomingMessage,
    res: ServerResponse,
    context: { requestId: string },
  ): unknown;
}

export interface ServerOptions {
  handler: GraphQLHandler;
  bodyLimitBytes: number;
  /** 200 when the gateway can serve, else 503 with a reason. */
  readiness: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  /** Prometheus exposition for GET /metrics; absent = 404. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

function sendJson(res: ServerResponse, status: number, body: unknown, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(text);
}

/**
 * Reads the body up to `limit` bytes. Returns null (after answering 413) when it is larger, so a
 * huge body never reaches the GraphQL parser or sits in memory.
 */
function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
): Promise<Buffer | null> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > limit) {
    sendJson(
      res,
      413,
      { errors: [{ message: `Request body is larger than ${limit} bytes` }] },
      {
        connection: "close",
      },
    );
    req.resume();
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        sendJson(
          res,
          413,
          { errors: [{ message: `Request body is larger than ${limit} bytes` }] },
          {
            connection: "close",
          },
        );
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(size > limit ? null : Buffer.concat(chunks, size)));
    req.on("error", reject);
  });
}

/**
 * The node HTTP server: /healthz, /readyz, and everything else to GraphQL. It only listens and
 * closes; what the gateway does lives elsewhere.
 */
export function createHttpServer(options: ServerOptions): Server {
  return createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") return sendJson(res, 200, { status: "ok" });
    if (path === "/readyz") {
      const { ready, checks } = await options.readiness();
      return sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "unavailable", checks });
    }
    if (path === "/metrics" && options.metrics) {
      const { contentType, body } = await options.metrics();
      res.writeHead(200, { "content-type": contentType });
      res.end(body);
      return;
    }
    const incoming = req.headers["x-request-id"];
    const requestId =
      typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader("x-request-id", requestId);
    if (req.method === "POST") {
      try {
        const body = await readBody(req, res, options.bodyLimitBytes);
        if (body === null) return;
        // whatwg-node uses an already-read body as is (a Buffer counts as a Uint8Array).
        (req as IncomingMessage & { body?: Buffer }).body = body;
      } catch {
        if (!res.headersSent) sendJson(res, 400, { errors: [{ message: "Unreadable body" }] });
        return;
      }
    }
    requestScope.run({ requestId, upstreamCalls: 0 }, () =>
      options.handler.requestListener(req, res, { requestId }),
    );
  });
}

export function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve(`http://${shown}:${address.port}`);
    });
  });
}

/**
 * Stops accepting, lets in-flight requests finish within `graceMs`, then drops the rest. A
 * keep-alive connection is closed as soon as its request is answered, not at its idle timeout.
 */
export function close(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    const sweep = setInterval(() => server.closeIdleConnections(), 25);
    sweep.unref();
    server.close(() => {
      clearTimeout(timer);
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}
