import { AsyncLocalStorage } from "node:async_hooks";
import type { Span } from "@opentelemetry/api";

/** What one HTTP request accumulates on its way through (for its summary log line). */
export interface RequestScope {
  requestId: string;
  /** Homeserver attempts made for this request, retries included. */
  upstreamCalls: number;
  /** The request's span when tracing is on; upstream calls become its children. */
  span?: Span;
}

/** The current request, wherever its async work runs (the homeserver client counts into it). */
export const requestScope = new AsyncLocalStorage<RequestScope>();
