import { randomUUID } from "node:crypto";
import { GraphQLError } from "graphql";
import type { YogaInitialContext } from "graphql-yoga";
import type { Logger } from "pino";
import { AdminLoader } from "./admin-loader.ts";
import type { AuditStore } from "./audit-types.ts";
import type { DeviceCache } from "./cache/device-cache.ts";
import { RequestCache } from "./cache/request-cache.ts";
import { DeviceLoader } from "./device-loader.ts";
import { GraphQLErrorCode } from "./error-codes.ts";
import type { SynapseAdminApi } from "./homeserver/admin-api.ts";
import type { AuthMetadataDiscovery } from "./homeserver/auth-metadata.ts";
import type { ClientServerApi, MatrixDevice, Whoami } from "./homeserver/client-server.ts";
import type { IdentityCache } from "./identity-cache.ts";
import { UserSession } from "./user-session.ts";

/** Receives every device the homeserver shows a user (the last-seen cache). */
export interface DeviceSightings {
  observe(userId: string, devices: MatrixDevice[], completeList: boolean): void;
  /** The gateway deleted these devices of the user. */
  deleted?(userId: string, deviceIds: string[]): void;
}

/** What lives as long as the gateway: shared by every request's context. */
export interface GatewayServices {
  homeserver: ClientServerApi;
  identities: IdentityCache;
  logger: Logger;
  maxBulkDevices: number;
  sightings: DeviceSightings | null;
  /** Synapse's admin API (called with each caller's own token). */
  admin: SynapseAdminApi;
  /** Most admin calls one request runs at once (ADMIN_CONCURRENCY). */
  adminConcurrency: number;
  /** OAuth 2.0 delegation, discovered once and cached. */
  authMetadata: AuthMetadataDiscovery;
  /** Where mutations are recorded; null = not recorded (auditLog answers empty). */
  auditStore: AuditStore | null;
  /** Reads of the last-seen cache; null when the gateway runs without one. */
  cache: DeviceCache | null;
  now: () => number;
}

/** The per-request context every resolver receives. */
export interface Context {
  requestId: string;
  logger: Logger;
  homeserver: ClientServerApi;
  maxBulkDevices: number;
  now: () => number;
  /** This request's reads of the last-seen cache and its stale mark; null without a cache. */
  cache: RequestCache | null;
  /** The caller's session; throws UNAUTHENTICATED when the request carries no token. */
  session(): UserSession;
  /** Who the token belongs to (whoami, at most once per request). */
  viewer(): Promise<Whoami>;
  /** This request's device loader (created on first use). */
  devices(): DeviceLoader;
  /** This request's admin API loader (created on first use). */
  admin(): AdminLoader;
  authMetadata: AuthMetadataDiscovery;
  auditStore: AuditStore | null;
}

/** `Authorization: Bearer <token>`; anything else is no token. */
export function bearerToken(header: string | null): string | null {
  const match = header === null ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/** Builds the yoga `context` function: fresh loaders and session per request. */
export function createContextFactory(services: GatewayServices) {
  return (initial: YogaInitialContext & { requestId?: string }): Context => {
    const { request } = initial;
    const requestId = initial.requestId ?? randomUUID();
    const token = bearerToken(request.headers.get("authorization"));
    let session: UserSession | null = null;
    let loader: DeviceLoader | null = null;
    let adminLoader: AdminLoader | null = null;

    const context: Context = {
      requestId,
      logger: services.logger.child({ requestId }),
      homeserver: services.homeserver,
      maxBulkDevices: services.maxBulkDevices,
      authMetadata: services.authMetadata,
      auditStore: services.auditStore,
      now: services.now,
      cache: null,
      session() {
        if (token === null) {
          throw new GraphQLError("An access token is required: Authorization: Bearer <token>", {
            extensions: { code: GraphQLErrorCode.Unauthenticated, errcode: "M_MISSING_TOKEN" },
          });
        }
        session ??= new UserSession(services.homeserver, services.identities, token, (ids) => {
          const known = session === null ? null : services.identities.stale(session.tokenHash);
          if (known !== null) services.sightings?.deleted?.(known.userId, ids);
        });
        return session;
      },
      viewer() {
        return context.session().whoami();
      },
      devices() {
        if (loader === null) {
          const current = context.session();
          const sightings = services.sightings;
          loader = new DeviceLoader(current, (devices, complete) => {
            if (sightings === null) return;
            current.whoami().then(
              ({ userId }) => sightings.observe(userId, devices, complete),
              () => {}, // no identity, nothing to remember; the answer itself is unaffected
            );
          });
        }
        return loader;
      },
      admin() {
        adminLoader ??= new AdminLoader(
          context.session(),
          services.admin,
          services.adminConcurrency,
          (userId, devices) => services.sightings?.observe(userId, devices, true),
          (userId, ids) => services.sightings?.deleted?.(userId, ids),
        );
        return adminLoader;
      },
    };
    if (services.cache !== null) {
      const identities = services.identities;
      context.cache = new RequestCache(
        services.cache,
        () => (token === null ? null : identities.stale(context.session().tokenHash)),
        context.logger,
      );
    }
    return context;
  };
}
