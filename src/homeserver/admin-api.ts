import { type MatrixDevice, parseDevice } from "./client-server.ts";
import { HomeserverBadResponse } from "./errors.ts";
import type { HomeserverHttp, JsonObject } from "./http.ts";

const ADMIN = "/_synapse/admin/v2";

/** A user as Synapse's admin API describes it. */
export interface AdminUser {
  userId: string;
  displayName: string | null;
  isAdmin: boolean;
  deactivated: boolean;
}

/** One page of `GET /_synapse/admin/v2/users`. */
export interface AdminUserPage {
  users: AdminUser[];
  total: number;
  /** The `from` of the next page; null on the last page. */
  nextFrom: number | null;
}

function parseUser(body: unknown): AdminUser {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HomeserverBadResponse("user is not an object");
  }
  const user = body as JsonObject;
  if (typeof user.name !== "string") throw new HomeserverBadResponse("user name missing");
  const displayName = user.displayname;
  return {
    userId: user.name,
    displayName: typeof displayName === "string" ? displayName : null,
    // Synapse has sent `admin` as 0/1 in older versions: anything truthy is an admin.
    isAdmin: Boolean(user.admin),
    deactivated: Boolean(user.deactivated),
  };
}

/**
 * Synapse's admin API for users and their devices, called with the caller's own token: whether
 * the caller is an admin is the homeserver's decision (403 M_FORBIDDEN otherwise). No UIA.
 * @see https://element-hq.github.io/synapse/latest/admin_api/user_admin_api.html
 */
export class SynapseAdminApi {
  constructor(private readonly http: HomeserverHttp) {}

  /** @see https://element-hq.github.io/synapse/latest/admin_api/user_admin_api.html#query-user-account */
  async getUser(token: string, userId: string): Promise<AdminUser> {
    return parseUser(await this.http.call("GET", `${ADMIN}/users/{userId}`, { userId }, { token }));
  }

  /** @see https://element-hq.github.io/synapse/latest/admin_api/user_admin_api.html#list-accounts */
  async listUsers(
    token: string,
    page: { from: number; limit: number; name: string | null },
  ): Promise<AdminUserPage> {
    const query = { from: page.from, limit: page.limit, name: page.name ?? undefined };
    const body = await this.http.call("GET", `${ADMIN}/users`, {}, { token, query });
    if (!Array.isArray(body.users)) throw new HomeserverBadResponse("users is not a list");
    const users = body.users.map(parseUser);
    const total = Number.isSafeInteger(body.total) ? (body.total as number) : users.length;
    const next = body.next_token;
    const nextFrom =
      (typeof next === "string" && /^\d+$/.test(next)) || typeof next === "number"
        ? Number(next)
        : null;
    return { users, total, nextFrom };
  }

  /** @see https://element-hq.github.io/synapse/latest/admin_api/user_admin_api.html#list-all-devices */
  async listDevices(token: string, userId: string): Promise<MatrixDevice[]> {
    const template = `${ADMIN}/users/{userId}/devices`;
    const body = await this.http.call("GET", template, { userId }, { token });
    if (!Array.isArray(body.devices)) throw new HomeserverBadResponse("devices is not a list");
    return body.devices.map(parseDevice);
  }

  /** @see https://element-hq.github.io/synapse/latest/admin_api/user_admin_api.html#update-a-device */
  async renameDevice(
    token: string,
    userId: string,
    deviceId: string,
    displayName: string,
  ): Promise<void> {
    const template = `${ADMIN}/users/{userId}/devices/{deviceId}`;
    const body = { display_name: displayName };
    await this.http.call("PUT", template, { userId, deviceId }, { token, body });
  }

  /** @see https://element-hq.github.io/synapse/latest/admin_api/user_admin_api.html#show-a-device */
  async getDevice(token: string, userId: string, deviceId: string): Promise<MatrixDevice> {
    const template = `${ADMIN}/users/{userId}/devices/{deviceId}`;
    return parseDevice(await this.http.call("GET", template, { userId, deviceId }, { token }));
  }

  /** @see https://element-hq.github.io/synapse/latest/admin_api/user_admin_api.html#delete-a-device */
  async deleteDevice(token: string, userId: string, deviceId: string): Promise<void> {
    const template = `${ADMIN}/users/{userId}/devices/{deviceId}`;
    await this.http.call("DELETE", template, { userId, deviceId }, { token });
  }

  /** @see https://element-hq.github.io/synapse/latest/admin_api/user_admin_api.html#delete-multiple-devices */
  async deleteDevices(token: string, userId: string, deviceIds: string[]): Promise<void> {
    const template = `${ADMIN}/users/{userId}/delete_devices`;
    await this.http.call("POST", template, { userId }, { token, body: { devices: deviceIds } });
  }
}
