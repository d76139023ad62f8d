import { MatrixError } from "./errors.ts";
import type { HomeserverHttp, JsonObject } from "./http.ts";

/** What the homeserver says about OAuth 2.0 delegation (MSC2965 / spec v1.15 auth metadata). */
export interface AuthMetadata {
  /** Whether authentication is delegated to an OAuth 2.0 server (e.g. MAS). */
  delegated: boolean;
  /** `account_management_uri`, where users manage their devices; null if not advertised. */
  accountManagementUri: string | null;
  /** `account_management_actions_supported`; null when not advertised. */
  actionsSupported: string[] | null;
  /** The OAuth issuer, when delegated. */
  issuer: string | null;
}

const NOT_DELEGATED: AuthMetadata = {
  delegated: false,
  accountManagementUri: null,
  actionsSupported: null,
  issuer: null,
};

const PATHS = [
  "/_matrix/client/v1/auth_metadata",
  "/_matrix/client/unstable/org.matrix.msc2965/auth_metadata",
];

/** How long an answer is kept when the homeserver sends no Cache-Control: 5 minutes. */
export const DEFAULT_AUTH_METADATA_TTL_MS = 5 * 60_000;
const MAX_TTL_MS = 24 * 3600_000;

/** The lifetime a `Cache-Control` header grants, or null when it says nothing about it. */
export function cacheControlTtlMs(header: string | string[] | undefined): number | null {
  const value = Array.isArray(header) ? header.join(",") : header;
  if (value === undefined) return null;
  const directives = value
    .toLowerCase()
    .split(",")
    .map((d) => d.trim());
  if (directives.some((d) => d === "no-store" || d === "no-cache")) return 0;
  for (const directive of directives) {
    const match = /^(?:s-)?max-age\s*=\s*"?(\d+)"?$/.exec(directive);
    if (match) return Math.min(Number(match[1]) * 1000, MAX_TTL_MS);
  }
  return null;
}

function strings(value: unknown): string[] | null {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : null;
}

function parse(body: JsonObject): AuthMetadata {
  return {
    delegated: true,
    accountManagementUri:
      typeof body.account_management_uri === "string" ? body.account_management_uri : null,
    actionsSupported: strings(body.account_management_actions_supported),
    issuer: typeof body.issuer === "string" ? body.issuer : null,
  };
}

/**
 * 404 M_UNRECOGNIZED is how servers without delegation answer; any other client error (a proxy's
 * 403 or 405 for an unknown path) means the same. Rate limits and 5xx are failures, not kept.
 */
function isUnrecognised(error: unknown): boolean {
  return (
    error instanceof MatrixError &&
    error.status >= 400 &&
    error.status < 500 &&
    error.status !== 429
  );
}

/**
 * Discovers once whether the homeserver delegates auth (`GET /_matrix/client/v1/auth_metadata`,
 * then the MSC2965 unstable path; 404 M_UNRECOGNIZED on both = not delegated) and keeps the
 * answer as long as its Cache-Control allows (5 minutes without one). Failures are not kept.
 * @see https://spec.matrix.org/v1.15/client-server-api/#get_matrixclientv1auth_metadata
 */
export class AuthMetadataDiscovery {
  private entry: { promise: Promise<AuthMetadata>; expiresAt: number } | null = null;

  constructor(
    private readonly http: HomeserverHttp,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<AuthMetadata> {
    if (this.entry !== null && this.now() < this.entry.expiresAt) return this.entry.promise;
    const entry = { promise: this.discover(), expiresAt: Number.POSITIVE_INFINITY };
    this.entry = entry;
    entry.promise.then(
      () => {},
      () => {
        if (this.entry === entry) this.entry = null;
      },
    );
    return entry.promise;
  }

  /** Forget the answer (the homeserver behaved as if it had changed). */
  invalidate(): void {
    this.entry = null;
  }

  private async discover(): Promise<AuthMetadata> {
    const started = this.now();
    for (const path of PATHS) {
      let ttl: number | null = null;
      try {
        const body = await this.http.call(
          "GET",
          path,
          {},
          {
            onHeaders: (headers) => {
              ttl = cacheControlTtlMs(headers["cache-control"]);
            },
          },
        );
        this.expireAt(started + (ttl ?? DEFAULT_AUTH_METADATA_TTL_MS));
        return parse(body);
      } catch (error) {
        if (!isUnrecognised(error)) throw error;
      }
    }
    this.expireAt(started + DEFAULT_AUTH_METADATA_TTL_MS);
    return NOT_DELEGATED;
  }

  private expireAt(at: number): void {
    if (this.entry !== null && this.entry.expiresAt === Number.POSITIVE_INFINITY) {
      this.entry.expiresAt = at;
    }
  }
}

/** A deep link into the account management UI for one action. */
export interface AccountManagementLink {
  url: string;
  action: string;
}

function pick(metadata: AuthMetadata, stable: string, unstable: string): string {
  const supported = metadata.actionsSupported;
  if (supported === null || supported.includes(stable)) return stable;
  return supported.includes(unstable) ? unstable : stable;
}

/**
 * Where a user ends their own devices on a delegated homeserver: one device gets
 * `?action=org.matrix.device_delete&device_id=…` (`org.matrix.session_end` when only the
 * unstable action is advertised); several get the devices list (`org.matrix.devices_list`).
 * @see https://github.com/matrix-org/matrix-spec-proposals/pull/4191
 */
export function deleteDevicesLink(
  metadata: AuthMetadata,
  deviceIds: string[],
): AccountManagementLink {
  const base = metadata.accountManagementUri ?? metadata.issuer ?? "";
  const url = new URL(base);
  const [only] = deviceIds;
  let action: string;
  if (deviceIds.length === 1 && only !== undefined) {
    action = pick(metadata, "org.matrix.device_delete", "org.matrix.session_end");
    url.searchParams.set("action", action);
    url.searchParams.set("device_id", only);
  } else {
    action = pick(metadata, "org.matrix.devices_list", "org.matrix.sessions_list");
    url.searchParams.set("action", action);
  }
  return { url: url.href, action };
}
