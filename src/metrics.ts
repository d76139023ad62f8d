import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { UpstreamAttempt } from "./homeserver/http.ts";
import type { BreakerState } from "./homeserver/resilience.ts";

/** Operation names are client-chosen: bound the label set so nobody can explode the registry. */
const MAX_OPERATION_LABELS = 200;
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

/**
 * The gateway's Prometheus metrics, one registry per gateway (tests run several). Other parts
 * (the last-seen cache) register through `registry` or use the cache metrics defined here.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "gateway_graphql_requests_total",
    help: "GraphQL requests by operation name and HTTP status",
    labelNames: ["operation", "status"] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: "gateway_graphql_request_duration_seconds",
    help: "GraphQL request latency by operation name",
    labelNames: ["operation"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: "gateway_graphql_errors_total",
    help: "GraphQL errors in answers by extensions.code",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });
  readonly upstream = new Counter({
    name: "gateway_upstream_requests_total",
    help: "Homeserver calls by method, endpoint template and status (or transport error code)",
    labelNames: ["method", "endpoint", "status"] as const,
    registers: [this.registry],
  });
  readonly upstreamDuration = new Histogram({
    name: "gateway_upstream_request_duration_seconds",
    help: "Homeserver call latency by endpoint template",
    labelNames: ["method", "endpoint"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly breakerOpen = new Gauge({
    name: "gateway_upstream_breaker_open",
    help: "1 while the homeserver circuit breaker is open or half-open, else 0",
    registers: [this.registry],
  });
  /** Set by the last-seen cache: sightings waiting to be written. */
  readonly cacheQueueDepth = new Gauge({
    name: "gateway_cache_queue_depth",
    help: "Device sightings queued for the database",
    registers: [this.registry],
  });
  /** Incremented by the last-seen cache when a write fails. */
  readonly cacheWriteFailures = new Counter({
    name: "gateway_cache_write_failures_total",
    help: "Failed last-seen cache writes",
    registers: [this.registry],
  });
  readonly #operations = new Set<string>();
  #cacheFailuresSeen = 0;

  /** Brings the cache metrics up to the store's counters (called on each scrape). */
  syncCache(stats: { queued: number; failures: number }): void {
    this.cacheQueueDepth.set(stats.queued);
    if (stats.failures > this.#cacheFailuresSeen) {
      this.cacheWriteFailures.inc(stats.failures - this.#cacheFailuresSeen);
      this.#cacheFailuresSeen = stats.failures;
    }
  }

  constructor() {
    // process_resident_memory_bytes, nodejs_heap_*, event loop lag, GC: computed on scrape.
    collectDefaultMetrics({ register: this.registry });
  }

  /** A bounded label for a client-chosen operation name. */
  operationLabel(name: string | null | undefined): string {
    if (!name) return "anonymous";
    if (!OPERATION_NAME.test(name)) return "other";
    if (this.#operations.has(name)) return name;
    if (this.#operations.size >= MAX_OPERATION_LABELS) return "other";
    this.#operations.add(name);
    return name;
  }

  upstreamAttempt(attempt: UpstreamAttempt): void {
    this.upstream.inc({
      method: attempt.method,
      endpoint: attempt.endpoint,
      status: attempt.outcome,
    });
    if (attempt.outcome !== "BREAKER_OPEN") {
      this.upstreamDuration.observe(
        { method: attempt.method, endpoint: attempt.endpoint },
        attempt.seconds,
      );
    }
  }

  breaker(state: BreakerState): void {
    this.breakerOpen.set(state === "closed" ? 0 : 1);
  }
}
