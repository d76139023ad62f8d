import { HomeserverBadResponse } from "./errors.ts";
import type { HomeserverHttp, JsonObject } from "./http.ts";

/** A device as the homeserver describes it; absent last-seen fields are `null`. */
export interface MatrixDevice {
  deviceId: string;
  displayName: string | null;
  lastSeenIp: string | null;
  lastSeenTs: number | null;
  /** Only admin views (Synapse's admin API) carry it; null from the client-server API. */
  lastSeenUserAgent: string | null;
}

/** Who a token belongs to. */
export interface Whoami {
  userId: string;
  deviceId: string | null;
}

/** The Matrix auth dict sent with a UIA request (`auth` in the body). */
export type AuthDict = JsonObject & { type?: string; session?: string };

/** `r0` or `v3`: the client-server path version this homeserver speaks. */
export type ClientVersion = "r0" | "v3";

function optionalString(body: JsonObject, key: string): string | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new HomeserverBadResponse(`${key} is not a string`);
  return value;
}

/** Checks one device object at the edge. */
export function parseDevice(body: unknown): MatrixDevice {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HomeserverBadResponse("device is not an object");
  }
  const device = body as JsonObject;
  if (typeof device.device_id !== "string") throw new HomeserverBadResponse("device_id missing");
  const ts = device.last_seen_ts;
  if (ts !== undefined && ts !== null && !Number.isSafeInteger(ts)) {
    throw new HomeserverBadResponse("last_seen_ts is not an integer");
  }
  return {
    deviceId: device.device_id,
    displayName: optionalString(device, "display_name"),
    lastSeenIp: optionalString(device, "last_seen_ip"),
    lastSeenTs: typeof ts === "number" ? ts : null,
    lastSeenUserAgent: optionalString(device, "last_seen_user_agent"),
  };
}

/** Whether `versions` offers v1.1 or later, which introduced the `/v3` paths. */
export function pickClientVersion(versions: string[]): ClientVersion {
  const modern = versions.some((version) => {
    const match = /^v(\d+)\.(\d+)$/.exec(version);
    return match !== null && (Number(match[1]) > 1 || Number(match[2]) >= 1);
  });
  return modern ? "v3" : "r0";
}

/**
 * The client-server device endpoints, called as the token's own user.
 * @see https://spec.matrix.org/latest/client-server-api/#device-management
 */
export class ClientServerApi {
  private versionsPromise: Promise<{ versions: string[]; prefix: ClientVersion }> | null = null;

  constructor(readonly http: HomeserverHttp) {}

  /**
   * The homeserver's supported versions, discovered once (retried after a failure).
   * @see https://spec.matrix.org/latest/client-server-api/#get_matrixclientversions
   */
  versions(): Promise<{ versions: string[]; prefix: ClientVersion }> {
    if (this.versionsPromise === null) {
      this.versionsPromise = this.http.call("GET", "/_matrix/client/versions", {}).then(
        (body) => {
          const versions = Array.isArray(body.versions)
            ? body.versions.filter((v): v is string => typeof v === "string")
            : [];
          return { versions, prefix: pickClientVersion(versions) };
        },
        (error: unknown) => {
          this.versionsPromise = null;
          throw error;
        },
      );
    }
    return this.versionsPromise;
  }

  /** Asks the homeserver for its versions now, bypassing the memo (readiness checks). */
  async probe(): Promise<void> {
    await this.http.call("GET", "/_matrix/client/versions", {});
  }

  private async path(rest: string): Promise<string> {
    const { prefix } = await this.versions();
    return `/_matrix/client/${prefix}${rest}`;
  }

  /** Base of the UIA fallback pages: `{homeserver}/_matrix/client/{v3|r0}`. */
  async clientBaseUrl(): Promise<string> {
    return this.http.baseUrl + (await this.path(""));
  }

  /** @see https://spec.matrix.org/latest/client-server-api/#get_matrixclientv3accountwhoami */
  async whoami(token: string): Promise<Whoami> {
    const body = await this.http.call("GET", await this.path("/account/whoami"), {}, { token });
    if (typeof body.user_id !== "string") throw new HomeserverBadResponse("user_id missing");
    return { userId: body.user_id, deviceId: optionalString(body, "device_id") };
  }

  /** @see https://spec.matrix.org/latest/client-server-api/#get_matrixclientv3devices */
  async listDevices(token: string): Promise<MatrixDevice[]> {
    const body = await this.http.call("GET", await this.path("/devices"), {}, { token });
    if (!Array.isArray(body.devices)) throw new HomeserverBadResponse("devices is not a list");
    return body.devices.map(parseDevice);
  }

  /** @see https://spec.matrix.org/latest/client-server-api/#get_matrixclientv3devicesdeviceid */
  async getDevice(token: string, deviceId: string): Promise<MatrixDevice> {
    const path = await this.path("/devices/{deviceId}");
    return parseDevice(await this.http.call("GET", path, { deviceId }, { token }));
  }

  /** @see https://spec.matrix.org/latest/client-server-api/#put_matrixclientv3devicesdeviceid */
  async renameDevice(token: string, deviceId: string, displayName: string): Promise<void> {
    const path = await this.path("/devices/{deviceId}");
    await this.http.call("PUT", path, { deviceId }, { token, body: { display_name: displayName } });
  }

  /**
   * Needs user-interactive auth: without a valid `auth` it throws a `UiaChallenge`.
   * @see https://spec.matrix.org/latest/client-server-api/#delete_matrixclientv3devicesdeviceid
   */
  async deleteDevice(token: string, deviceId: string, auth: AuthDict | null): Promise<void> {
    const path = await this.path("/devices/{deviceId}");
    await this.http.call("DELETE", path, { deviceId }, { token, body: auth ? { auth } : {} });
  }

  /**
   * Needs user-interactive auth, like `deleteDevice`.
   * @see https://spec.matrix.org/latest/client-server-api/#post_matrixclientv3delete_devices
   */
  async deleteDevices(token: string, deviceIds: string[], auth: AuthDict | null): Promise<void> {
    const body: JsonObject = { devices: deviceIds };
    if (auth) body.auth = auth;
    await this.http.call("POST", await this.path("/delete_devices"), {}, { token, body });
  }
}
