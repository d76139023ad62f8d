/**
 * Injected faults of the fake homeserver: a queue consumed by matching requests, and how each
 * fault answers (429 with Retry-After, a 5xx from a proxy or the server, a hang, a reset).
 */
import type { ServerResponse } from "node:http";
import type { Fault } from "./fake-homeserver.ts";
import { CORS_HEADERS, sendReply, unquote } from "./fake-homeserver-http.ts";

interface QueuedFault {
  fault: Fault;
  match: string | RegExp | null;
  method: string | null;
  remaining: number;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Temporarily Unavailable",
  504: "Gateway Time-out",
};

export class FaultQueue {
  readonly #queue: QueuedFault[] = [];

  add(fault: Fault, options: { match?: string | RegExp; times?: number; method?: string }): void {
    this.#queue.push({
      fault,
      match: options.match ?? null,
      method: options.method?.toUpperCase() ?? null,
      remaining: options.times ?? 1,
    });
  }

  clear(): void {
    this.#queue.length = 0;
  }

  /** The first queued fault matching this request, consuming one of its uses. */
  take(method: string, rawPath: string): Fault | null {
    const decoded = unquote(rawPath);
    const index = this.#queue.findIndex((queued) => {
      if (queued.method !== null && queued.method !== method) return false;
      if (queued.match === null) return true;
      if (typeof queued.match === "string") return decoded.includes(queued.match);
      queued.match.lastIndex = 0; // a /g or /y RegExp keeps state between tests
      return queued.match.test(decoded);
    });
    const queued = this.#queue[index];
    if (!queued) return null;
    queued.remaining -= 1;
    if (queued.remaining <= 0) this.#queue.splice(index, 1);
    return queued.fault;
  }
}

/** Answers (or deliberately does not answer) with the fault; returns the status sent, 0 if none. */
export function applyFault(fault: Fault, res: ServerResponse): number {
  switch (fault.kind) {
    case "hang":
      return 0; // stop() closes the socket
    case "reset":
      res.socket?.destroy();
      return 0;
    case "rateLimit": {
      // Synapse's LimitExceededError; `header` adds the Retry-After that newer Synapse sends.
      const body: Record<string, unknown> = {
        errcode: "M_LIMIT_EXCEEDED",
        error: "Too Many Requests",
      };
      if (fault.body !== false) body.retry_after_ms = fault.retryAfterMs;
      const headers: Record<string, string> = fault.header
        ? { "Retry-After": String(Math.ceil(fault.retryAfterMs / 1000)) }
        : {};
      sendReply(res, { status: 429, body, headers });
      return 429;
    }
    case "status": {
      const text = fault.error ?? STATUS_TEXT[fault.status] ?? "Error";
      if (fault.errcode !== undefined) {
        sendReply(res, { status: fault.status, body: { errcode: fault.errcode, error: text } });
        return fault.status;
      }
      // Without an errcode the answer comes from the reverse proxy in front, not from Synapse.
      const title = `${fault.status} ${text}`;
      const html = `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
      res.writeHead(fault.status, {
        ...CORS_HEADERS,
        "Content-Type": "text/html",
        "Content-Length": String(Buffer.byteLength(html)),
      });
      res.end(html);
      return fault.status;
    }
  }
}
