/**
 * The fake homeserver's data: users, their devices and the access tokens bound to devices.
 * Plain in-memory maps; every answer that leaves is a copy.
 */
import { randomBytes } from "node:crypto";
import type { FakeDevice, FakeUserInit } from "./fake-homeserver.ts";

export interface UserRecord {
  userId: string;
  password: string;
  displayName: string | null;
  admin: boolean;
  deactivated: boolean;
  creationTs: number;
}

export interface TokenOwner {
  userId: string;
  deviceId: string;
}

export type PasswordCheck =
  | { kind: "ok"; userId: string }
  | { kind: "invalid" }
  | { kind: "deactivated" };

/** How device objects are shaped: the spec omits unset fields, Synapse sends them as null. */
export type DeviceJsonShape = "spec" | "synapse";

const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Synapse's `random_string`: ASCII letters only. */
export function randomString(length: number): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

export function localpartOf(userId: string): string {
  const colon = userId.indexOf(":");
  return userId.slice(1, colon === -1 ? undefined : colon);
}

function copyDevice(device: FakeDevice): FakeDevice {
  const copy: FakeDevice = { deviceId: device.deviceId };
  if (device.displayName !== undefined) copy.displayName = device.displayName;
  if (device.lastSeenIp !== undefined) copy.lastSeenIp = device.lastSeenIp;
  if (device.lastSeenTs !== undefined) copy.lastSeenTs = device.lastSeenTs;
  if (device.userAgent !== undefined) copy.userAgent = device.userAgent;
  return copy;
}

export class HomeserverState {
  readonly users = new Map<string, UserRecord>();
  readonly #devices = new Map<string, Map<string, FakeDevice>>();
  readonly #tokens = new Map<string, TokenOwner>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  addUser(init: FakeUserInit): void {
    if (!/^@[^:]+:.+$/.test(init.userId)) throw new Error(`not a user id: ${init.userId}`);
    if (this.users.has(init.userId)) throw new Error(`user exists: ${init.userId}`);
    this.users.set(init.userId, {
      userId: init.userId,
      password: init.password,
      displayName: init.displayName ?? null,
      admin: init.admin ?? false,
      deactivated: init.deactivated ?? false,
      creationTs: this.#now(),
    });
    this.#devices.set(init.userId, new Map());
  }

  #devicesOrThrow(userId: string): Map<string, FakeDevice> {
    const devices = this.#devices.get(userId);
    if (!devices) throw new Error(`no such user: ${userId}`);
    return devices;
  }

  addDevice(userId: string, device: FakeDevice): string {
    const devices = this.#devicesOrThrow(userId);
    if (devices.has(device.deviceId)) throw new Error(`device exists: ${device.deviceId}`);
    devices.set(device.deviceId, copyDevice(device));
    return this.#issueToken(userId, device.deviceId);
  }

  tokenFor(userId: string, deviceId: string): string | null {
    if (!this.#devices.get(userId)?.has(deviceId)) return null;
    return this.#issueToken(userId, deviceId);
  }

  /** Synapse's token format: syt_<base64 localpart>_<20 random letters>_<6 check chars>. */
  #issueToken(userId: string, deviceId: string): string {
    const local = Buffer.from(localpartOf(userId)).toString("base64").replace(/=+$/, "");
    const token = `syt_${local}_${randomString(20)}_${randomString(6)}`;
    this.#tokens.set(token, { userId, deviceId });
    return token;
  }

  /** The token's owner, or null when unknown, its device is gone or its user deactivated. */
  ownerOf(token: string): TokenOwner | null {
    const owner = this.#tokens.get(token);
    if (!owner) return null;
    if (this.users.get(owner.userId)?.deactivated) return null;
    return owner;
  }

  getDevice(userId: string, deviceId: string): FakeDevice | null {
    const device = this.#devices.get(userId)?.get(deviceId);
    return device ? copyDevice(device) : null;
  }

  devicesOf(userId: string): FakeDevice[] {
    const devices = [...(this.#devices.get(userId)?.values() ?? [])].map(copyDevice);
    return devices.sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
  }

  /** Replaces the whole record (fields left out become unset); creates it without a token. */
  setDevice(userId: string, device: FakeDevice): void {
    this.#devicesOrThrow(userId).set(device.deviceId, copyDevice(device));
  }

  renameDevice(userId: string, deviceId: string, displayName: string): boolean {
    const device = this.#devices.get(userId)?.get(deviceId);
    if (!device) return false;
    device.displayName = displayName;
    return true;
  }

  /** Records a use of a token the way Synapse's client_ips table does. */
  touch(owner: TokenOwner, ip: string, userAgent: string | null): void {
    const device = this.#devices.get(owner.userId)?.get(owner.deviceId);
    if (!device) return;
    device.lastSeenIp = ip;
    device.lastSeenTs = this.#now();
    if (userAgent !== null) device.userAgent = userAgent;
  }

  /** Removes the devices and every token bound to them; unknown ids are ignored (spec). */
  deleteDevices(userId: string, deviceIds: readonly string[]): void {
    const devices = this.#devices.get(userId);
    if (!devices) return;
    const gone = new Set(deviceIds.filter((id) => devices.delete(id)));
    for (const [token, owner] of this.#tokens) {
      if (owner.userId === userId && gone.has(owner.deviceId)) this.#tokens.delete(token);
    }
  }

  /** Synapse looks users up case-insensitively, taking an exact match when several match. */
  findUser(userId: string): UserRecord | null {
    const exact = this.users.get(userId);
    if (exact) return exact;
    const lower = userId.toLowerCase();
    const matches = [...this.users.values()].filter((u) => u.userId.toLowerCase() === lower);
    return matches.length === 1 ? (matches[0] ?? null) : null;
  }

  checkPassword(userId: string, password: string): PasswordCheck {
    const user = this.findUser(userId);
    if (!user) return { kind: "invalid" };
    if (user.deactivated) return { kind: "deactivated" };
    return user.password === password ? { kind: "ok", userId: user.userId } : { kind: "invalid" };
  }

  lastSeenOf(userId: string): number | null {
    let latest: number | null = null;
    for (const device of this.#devices.get(userId)?.values() ?? []) {
      if (device.lastSeenTs !== undefined && (latest === null || device.lastSeenTs > latest)) {
        latest = device.lastSeenTs;
      }
    }
    return latest;
  }
}

/** The client-server API's device object (`GET /devices`, `GET /devices/{id}`). */
export function clientDeviceJson(
  userId: string,
  device: FakeDevice,
  shape: DeviceJsonShape,
): Record<string, unknown> {
  if (shape === "synapse") {
    return {
      user_id: userId,
      device_id: device.deviceId,
      display_name: device.displayName ?? null,
      last_seen_ip: device.lastSeenIp ?? null,
      last_seen_ts: device.lastSeenTs ?? null,
    };
  }
  const json: Record<string, unknown> = { device_id: device.deviceId };
  if (device.displayName !== undefined) json.display_name = device.displayName;
  if (device.lastSeenIp !== undefined) json.last_seen_ip = device.lastSeenIp;
  if (device.lastSeenTs !== undefined) json.last_seen_ts = device.lastSeenTs;
  return json;
}

/** Synapse's admin API device object: the client one plus user_id and the user agent. */
export function adminDeviceJson(
  userId: string,
  device: FakeDevice,
  shape: DeviceJsonShape,
): Record<string, unknown> {
  const json: Record<string, unknown> = {
    ...clientDeviceJson(userId, device, shape),
    user_id: userId,
  };
  if (shape === "synapse") json.last_seen_user_agent = device.userAgent ?? null;
  else if (device.userAgent !== undefined) json.last_seen_user_agent = device.userAgent;
  return json;
}
