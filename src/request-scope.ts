import { AsyncLocalStorage } from "node:async_hooks";

/** What one HTTP request accumulates on its way through (for its summary log line). */
export interface RequestScope {
  requestId: string;
  /** Homeserver attempts made for this request, retries included. */
  upstreamCalls: number;
}

/** The current request, wherever its async work runs (the homeserver client counts into it). */
export const requestScope = new AsyncLocalStorage<RequestScope>();
