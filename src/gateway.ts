import type { Server } from "node:http";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { Dispatcher } from "undici";
import type { AuditStore } from "./audit-types.ts";
import { PrismaAuditStore } from "./cache/audit-store.ts";
import type { CacheServices } from "./cache/open-cache.ts";
import type { Config } from "./config.ts";
import type { DeviceSightings } from "./context.ts";
import { SynapseAdminApi } from "./homeserver/admin-api.ts";
import { AuthMetadataDiscovery } from "./homeserver/auth-metadata.ts";
import { ClientServerApi } from "./homeserver/client-server.ts";
import { HomeserverHttp } from "./homeserver/http.ts";
import { CircuitBreaker } from "./homeserver/resilience.ts";
import { IdentityCache } from "./identity-cache.ts";
import { Metrics } from "./metrics.ts";
import { requestScope } from "./request-scope.ts";
import { schema } from "./schema/index.ts";
import { close, createHttpServer, listen } from "./server.ts";
import { createGatewayYoga } from "./yoga.ts";

/** One named readiness check: resolves when fine, rejects with the reason otherwise. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

export interface GatewayOptions {
  config: Config;
  logger: Logger;
  /** Replaces the homeserver pool (tests). */
  dispatcher?: Dispatcher;
  sightings?: DeviceSightings | null;
  /** Where every mutation is recorded; null or absent = not recorded, `auditLog` is empty. */
  auditStore?: AuditStore | null;
  /** The last-seen cache (src/cache/open-cache.ts); its store also receives the sightings. */
  cache?: CacheServices | null;
  graphiqlHeaders?: Record<string, string>;
  now?: () => number;
  /** More /readyz checks besides the homeserver's (e.g. "database writable"). */
  readinessChecks?: ReadinessCheck[];
  /** Run on close after in-flight requests finished, before the pool closes (e.g. flush). */
  onShutdown?: Array<() => Promise<void>>;
  /** Shared metrics (the cache registers its own there); a fresh registry when absent. */
  metrics?: Metrics;
  /** OpenTelemetry tracer (see tracing.ts); no spans when absent. */
  tracer?: Tracer;
}

export interface Gateway {
  server: Server;
  homeserver: ClientServerApi;
  metrics: Metrics;
  breaker: CircuitBreaker;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /** Stops accepting, finishes in-flight requests (within `graceMs`), runs the shutdown hooks. */
  close(graceMs?: number): Promise<void>;
}

/** Wires config, homeserver client, schema, yoga and the HTTP server into one gateway. */
export function createGateway(options: GatewayOptions): Gateway {
  const { config, logger } = options;
  const metrics = options.metrics ?? new Metrics();
  const breaker = new CircuitBreaker({
    failureThreshold: config.breakerFailureThreshold,
    cooldownMs: config.breakerCooldownMs,
    now: options.now,
    onChange: (state) => {
      metrics.breaker(state);
      logger.warn({ breaker: state }, `homeserver circuit breaker ${state}`);
    },
  });
  const http = new HomeserverHttp({
    baseUrl: config.homeserverUrl,
    timeoutMs: config.upstreamTimeoutMs,
    logger: logger.child({ component: "homeserver" }),
    dispatcher: options.dispatcher,
    connections: config.upstreamConnections,
    retries: config.upstreamRetries,
    budgetMs: config.upstreamRetryBudgetMs,
    rateLimitMaxWaitMs: config.rateLimitMaxWaitMs,
    breaker,
    onAttempt: (attempt) => {
      metrics.upstreamAttempt(attempt);
      const scope = requestScope.getStore();
      if (scope) scope.upstreamCalls += 1;
      if (options.tracer) {
        // Reported when the attempt is over: a span from its start to now, under the request's.
        const parent = scope?.span ? trace.setSpan(ROOT_CONTEXT, scope.span) : ROOT_CONTEXT;
        const span = options.tracer.startSpan(
          `${attempt.method} ${attempt.endpoint}`,
          {
            kind: SpanKind.CLIENT,
            startTime: performance.timeOrigin + performance.now() - attempt.seconds * 1000,
            attributes: {
              "http.request.method": attempt.method,
              "url.template": attempt.endpoint,
              "gateway.upstream.outcome": attempt.outcome,
            },
          },
          parent,
        );
        if (!/^[23]\d\d$/.test(attempt.outcome)) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
    },
  });
  const homeserver = new ClientServerApi(http);
  const identities = new IdentityCache({
    ttlMs: config.whoamiTtlS * 1000,
    staleTtlMs: config.staleIdentityTtlS * 1000,
    now: options.now,
  });
  const yoga = createGatewayYoga({
    schema,
    config,
    metrics,
    tracer: options.tracer,
    graphiqlHeaders: options.graphiqlHeaders,
    services: {
      homeserver,
      identities,
      logger,
      maxBulkDevices: config.maxBulkDevices,
      admin: new SynapseAdminApi(http),
      adminConcurrency: config.adminConcurrency,
      authMetadata: new AuthMetadataDiscovery(http, options.now),
      // With a cache, mutations are audited in the same database.
      auditStore:
        options.auditStore !== undefined
          ? options.auditStore
          : options.cache
            ? new PrismaAuditStore(options.cache.prisma)
            : null,
      sightings: options.sightings ?? options.cache?.store ?? null,
      cache: options.cache?.reads ?? null,
      now: options.now ?? Date.now,
    },
  });
  let stopping = false;
  let closing: Promise<void> | null = null;
  const checks: ReadinessCheck[] = [
    {
      name: "homeserver",
      check: async () => {
        if (breaker.state === "open") throw new Error("circuit breaker open");
        await homeserver.probe();
      },
    },
    ...(options.cache ? [{ name: "database", check: options.cache.writable }] : []),
    ...(options.readinessChecks ?? []),
  ];
  const server = createHttpServer({
    handler: yoga,
    bodyLimitBytes: config.bodyLimitBytes,
    readiness: async () => {
      const results: Record<string, string> = {};
      if (stopping) results.shutdown = "shutting down";
      await Promise.all(
        checks.map(async ({ name, check }) => {
          try {
            await check();
            results[name] = "ok";
          } catch (error) {
            results[name] = (error as Error).message;
          }
        }),
      );
      return { ready: Object.values(results).every((r) => r === "ok"), checks: results };
    },
    metrics: async () => {
      if (options.cache) metrics.syncCache(options.cache.store.stats());
      return {
        contentType: metrics.registry.contentType,
        body: await metrics.registry.metrics(),
      };
    },
  });
  return {
    server,
    homeserver,
    metrics,
    breaker,
    listen: () => listen(server, config.port, config.host),
    close(graceMs = 10_000) {
      stopping = true;
      closing ??= (async () => {
        await close(server, graceMs);
        for (const hook of options.onShutdown ?? []) {
          try {
            await hook();
          } catch (error) {
            logger.error({ err: (error as Error).message }, "shutdown hook failed");
          }
        }
        await http.close();
      })();
      return closing;
    },
  };
}
