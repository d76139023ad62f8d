/**
 * The part of Synapse's admin API that manages users and their devices. Every route needs an
 * admin's token; target users must be local and exist, checked in Synapse's order.
 * @see https://element-hq.github.io/synapse/latest/admin_api/user_admin_api.html
 */
import {
  authenticate,
  checkDisplayName,
  type HomeserverContext,
} from "./fake-homeserver-client.ts";
import {
  matrixError,
  ok,
  parseJsonObject,
  type Reply,
  type Route,
  type RouteContext,
} from "./fake-homeserver-http.ts";
import { adminDeviceJson, localpartOf, type UserRecord } from "./fake-homeserver-state.ts";

const ADMIN = "/_synapse/admin/v2";
const ORDER_BY = [
  "name",
  "displayname",
  "is_guest",
  "admin",
  "deactivated",
  "user_type",
  "avatar_url",
  "shadow_banned",
  "creation_ts",
  "last_seen_ts",
  "locked",
] as const;

/** Synapse's `assert_requester_is_admin`. */
function requireAdmin(hs: HomeserverContext, ctx: RouteContext): void {
  const { userId } = authenticate(hs, ctx);
  if (!hs.state.users.get(userId)?.admin) {
    throw matrixError(403, "M_FORBIDDEN", "You are not a server admin");
  }
}

/**
 * `UserID.from_string`, `is_mine` and the existence check. Synapse's non-local refusal carries
 * no errcode of its own (so M_UNKNOWN), and its wording differs between servlets.
 */
function targetUser(hs: HomeserverContext, ctx: RouteContext, wording: "device" | "user") {
  const userId = ctx.params.userId ?? "";
  if (!userId.startsWith("@")) {
    throw matrixError(400, "M_INVALID_PARAM", "Expected UserID string to start with '@'");
  }
  const colon = userId.indexOf(":");
  if (colon === -1) {
    throw matrixError(400, "M_INVALID_PARAM", "Expected UserID of the form '@localname:domain'");
  }
  if (userId.slice(colon + 1) !== hs.serverName) {
    const message =
      wording === "user" ? "Can only look up local users" : "Can only lookup local users";
    throw matrixError(400, "M_UNKNOWN", message);
  }
  const user = hs.state.users.get(userId);
  if (!user) {
    throw matrixError(404, "M_NOT_FOUND", wording === "user" ? "User not found" : "Unknown user");
  }
  return user;
}

function userListJson(hs: HomeserverContext, user: UserRecord): Record<string, unknown> {
  return {
    name: user.userId,
    user_type: null,
    is_guest: false,
    admin: user.admin,
    deactivated: user.deactivated,
    shadow_banned: false,
    displayname: user.displayName,
    avatar_url: null,
    creation_ts: user.creationTs,
    locked: false,
    erased: false,
    last_seen_ts: hs.state.lastSeenOf(user.userId),
  };
}

function userJson(hs: HomeserverContext, user: UserRecord): Record<string, unknown> {
  return {
    ...userListJson(hs, user),
    threepids: [],
    external_ids: [],
    appservice_id: null,
    consent_server_notice_sent: null,
    consent_version: null,
    consent_ts: null,
    suspended: false,
  };
}

function integerParam(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^-?\d+$/.test(raw)) {
    throw matrixError(400, "M_INVALID_PARAM", `Query parameter '${name}' must be an integer.`);
  }
  const value = Number(raw);
  if (value < 0) {
    throw matrixError(
      400,
      "M_INVALID_PARAM",
      `Query parameter ${name} must be a string representing a positive integer.`,
    );
  }
  return value;
}

function booleanParam(query: URLSearchParams, name: string): boolean | null {
  const raw = query.get(name);
  if (raw === null) return null;
  if (raw !== "true" && raw !== "false") {
    throw matrixError(
      400,
      "M_INVALID_PARAM",
      `Boolean query parameter '${name}' must be one of ['true', 'false']`,
    );
  }
  return raw === "true";
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return (a as string | number) < (b as string | number) ? -1 : 1;
}

/** `GET /_synapse/admin/v2/users`: offset paging, `next_token` only while more remain. */
function listUsers(hs: HomeserverContext, ctx: RouteContext): Reply {
  requireAdmin(hs, ctx);
  const { query } = ctx;
  const from = integerParam(query, "from", 0);
  const limit = integerParam(query, "limit", 100);
  const name = query.get("name")?.toLowerCase() ?? null;
  const userIdFilter = query.get("user_id")?.toLowerCase() ?? null;
  const includeDeactivated = booleanParam(query, "deactivated") ?? false;
  const admins = booleanParam(query, "admins");
  const orderBy = query.get("order_by") ?? "name";
  if (!(ORDER_BY as readonly string[]).includes(orderBy)) {
    throw matrixError(400, "M_INVALID_PARAM", "Unknown value for query parameter 'order_by'");
  }
  const dir = query.get("dir") ?? "f";
  if (dir !== "f" && dir !== "b") {
    throw matrixError(400, "M_INVALID_PARAM", "Unknown value for query parameter 'dir'");
  }

  const matching = [...hs.state.users.values()]
    .filter((u) => includeDeactivated || !u.deactivated)
    .filter((u) => admins === null || u.admin === admins)
    .filter(
      (u) =>
        name === null ||
        localpartOf(u.userId).toLowerCase().includes(name) ||
        (u.displayName ?? "").toLowerCase().includes(name),
    )
    .filter((u) => userIdFilter === null || u.userId.toLowerCase().includes(userIdFilter))
    .map((u) => userListJson(hs, u))
    .sort((a, b) => {
      const byField = compare(a[orderBy], b[orderBy]) * (dir === "b" ? -1 : 1);
      return byField !== 0 ? byField : compare(a.name, b.name);
    });
  const users = matching.slice(from, from + limit);
  const body: Record<string, unknown> = { users, total: matching.length };
  if (from + limit < matching.length) body.next_token = String(from + users.length);
  return ok(body);
}

export function adminRoutes(hs: HomeserverContext): Route[] {
  const devicesOf = (userId: string) =>
    hs.state.devicesOf(userId).map((d) => adminDeviceJson(userId, d, hs.deviceJson));
  return [
    { path: `${ADMIN}/users`, methods: { GET: (ctx) => listUsers(hs, ctx) } },
    {
      path: `${ADMIN}/users/{userId}`,
      methods: {
        GET: (ctx) => {
          requireAdmin(hs, ctx);
          return ok(userJson(hs, targetUser(hs, ctx, "user")));
        },
      },
    },
    {
      path: `${ADMIN}/users/{userId}/devices`,
      methods: {
        GET: (ctx) => {
          requireAdmin(hs, ctx);
          const devices = devicesOf(targetUser(hs, ctx, "device").userId);
          return ok({ devices, total: devices.length });
        },
      },
    },
    {
      path: `${ADMIN}/users/{userId}/devices/{deviceId}`,
      methods: {
        GET: (ctx) => {
          requireAdmin(hs, ctx);
          const { userId } = targetUser(hs, ctx, "device");
          const device = hs.state.getDevice(userId, ctx.params.deviceId ?? "");
          if (!device) throw matrixError(404, "M_NOT_FOUND", "No device found");
          return ok(adminDeviceJson(userId, device, hs.deviceJson));
        },
        PUT: (ctx) => {
          requireAdmin(hs, ctx);
          const { userId } = targetUser(hs, ctx, "device");
          const deviceId = ctx.params.deviceId ?? "";
          const name = checkDisplayName(hs, parseJsonObject(ctx.bodyText, true));
          if (!hs.state.getDevice(userId, deviceId)) {
            throw matrixError(404, "M_NOT_FOUND", "Not found");
          }
          if (name !== null) hs.state.renameDevice(userId, deviceId, name);
          return ok({});
        },
        DELETE: (ctx) => {
          requireAdmin(hs, ctx);
          const { userId } = targetUser(hs, ctx, "device");
          hs.state.deleteDevices(userId, [ctx.params.deviceId ?? ""]);
          return ok({});
        },
      },
    },
    {
      path: `${ADMIN}/users/{userId}/delete_devices`,
      methods: {
        POST: (ctx) => {
          requireAdmin(hs, ctx);
          const { userId } = targetUser(hs, ctx, "device");
          const body = parseJsonObject(ctx.bodyText);
          if (!("devices" in body)) {
            throw matrixError(400, "M_MISSING_PARAM", "Missing params: ['devices']");
          }
          const devices = body.devices;
          if (!Array.isArray(devices) || !devices.every((d) => typeof d === "string")) {
            throw matrixError(400, "M_BAD_JSON", "devices: a list of strings is required");
          }
          hs.state.deleteDevices(userId, devices);
          return ok({});
        },
      },
    },
  ];
}
