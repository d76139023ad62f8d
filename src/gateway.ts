import type { Server } from "node:http";
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
import { IdentityCache } from "./identity-cache.ts";
import { schema } from "./schema/index.ts";
import { close, createHttpServer, listen } from "./server.ts";
import { createGatewayYoga } from "./yoga.ts";

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
}

export interface Gateway {
  server: Server;
  homeserver: ClientServerApi;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /** Stops accepting, finishes in-flight requests (within `graceMs`), closes the pool. */
  close(graceMs?: number): Promise<void>;
}

/** Wires config, homeserver client, schema, yoga and the HTTP server into one gateway. */
export function createGateway(options: GatewayOptions): Gateway {
  const { config, logger } = options;
  const http = new HomeserverHttp({
    baseUrl: config.homeserverUrl,
    timeoutMs: config.upstreamTimeoutMs,
    logger: logger.child({ component: "homeserver" }),
    dispatcher: options.dispatcher,
  });
  const homeserver = new ClientServerApi(http);
  const identities = new IdentityCache({
    ttlMs: config.whoamiTtlS * 1000,
    staleTtlMs: config.staleIdentityTtlS * 1000,
    now: options.now,
  });
  const yoga = createGatewayYoga({
    schema,
    graphiql: config.graphiql,
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
  const server = createHttpServer({
    handler: yoga,
    bodyLimitBytes: config.bodyLimitBytes,
    readiness: async () => {
      try {
        await homeserver.probe();
        return { ready: true, checks: { homeserver: "ok" } };
      } catch (error) {
        return { ready: false, checks: { homeserver: (error as Error).message } };
      }
    },
  });
  return {
    server,
    homeserver,
    listen: () => listen(server, config.port, config.host),
    async close(graceMs = 10_000) {
      await close(server, graceMs);
      await http.close();
    },
  };
}
