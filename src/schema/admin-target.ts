import type { Context } from "../context.ts";
import { deleteDevicesLink } from "../homeserver/auth-metadata.ts";
import { MatrixError } from "../homeserver/errors.ts";
import { checkUserId } from "../user-id.ts";
import { type DeviceView, liveDevice } from "./device.ts";
import {
  DeviceNotFoundError,
  ManagedByAccountServiceError,
  orRequestError,
  toRequestError,
  toResultError,
  UserNotFoundError,
} from "./errors.ts";

/** Whose devices a mutation acts on: the viewer's own (client-server API, UIA) or another's. */
export type Target = { own: true; userId: string } | { own: false; userId: string };

/**
 * Decides the path of a device mutation from its optional `userId`: omitted or the viewer's own
 * id keeps the client-server API (with UIA for deletion, the spec's security note, admins
 * included); another user's id goes to Synapse's admin API. The id is checked before any call.
 */
export async function targetOf(ctx: Context, userId: string | null | undefined): Promise<Target> {
  if (userId !== null && userId !== undefined) checkUserId(userId);
  const viewer = await ctx.viewer();
  if (userId === null || userId === undefined || userId === viewer.userId) {
    return { own: true, userId: viewer.userId };
  }
  return { own: false, userId };
}

/**
 * Whether the homeserver treats the viewer as an admin: one admin call
 * (`GET /_synapse/admin/v2/users/{viewer}`, shared with `user` in the same request); a 403 is
 * "no", any other failure is the request's error.
 */
export async function viewerIsAdmin(ctx: Context, viewerId: string): Promise<boolean> {
  try {
    await ctx.admin().user(viewerId);
    return true;
  } catch (error) {
    if (error instanceof MatrixError && error.status === 403) return false;
    throw toRequestError(error);
  }
}

/** Renames another user's device through the admin API and reads it back. */
export async function renameAsAdmin(
  ctx: Context,
  userId: string,
  deviceId: string,
  displayName: string,
): Promise<DeviceView> {
  const admin = ctx.admin();
  try {
    await admin.call((api, token) => api.renameDevice(token, userId, deviceId, displayName));
    admin.forget(userId);
    const device = (await admin.devicesOf(userId)).find((d) => d.deviceId === deviceId);
    if (device === undefined) throw new DeviceNotFoundError(deviceId);
    return liveDevice(device, userId);
  } catch (error) {
    // Synapse answers 404 M_NOT_FOUND both for an unknown user and an unknown device.
    if (error instanceof MatrixError && error.status === 404 && error.errcode === "M_NOT_FOUND") {
      const user = await admin.user(userId).catch(() => null);
      throw user === null ? new UserNotFoundError(userId) : new DeviceNotFoundError(deviceId);
    }
    throw toResultError(error, deviceId);
  }
}

/** Deletes another user's devices through the admin API: no UIA, unknown ids are ignored. */
export async function deleteAsAdmin(
  ctx: Context,
  userId: string,
  deviceIds: string[],
): Promise<void> {
  const admin = ctx.admin();
  try {
    for (let i = 0; i < deviceIds.length; i += ctx.maxBulkDevices) {
      const chunk = deviceIds.slice(i, i + ctx.maxBulkDevices);
      const [only] = chunk;
      await admin.call((api, token) =>
        chunk.length === 1 && only !== undefined
          ? api.deleteDevice(token, userId, only)
          : api.deleteDevices(token, userId, chunk),
      );
      admin.deleted(userId, chunk);
    }
  } catch (error) {
    // The delete endpoints answer 404 only for an unknown user (unknown devices are ignored).
    throw toResultError(error, undefined, userId);
  } finally {
    admin.forget(userId);
  }
}

/**
 * On an OAuth-delegated homeserver the user ends their own devices in the account service:
 * the deep link to use, or null when auth is not delegated.
 */
export async function delegatedDeletion(
  ctx: Context,
  deviceIds: string[],
): Promise<ManagedByAccountServiceError | null> {
  const metadata = await orRequestError(ctx.authMetadata.get());
  if (!metadata.delegated) return null;
  const link = deleteDevicesLink(metadata, deviceIds);
  return new ManagedByAccountServiceError(link.url, link.action);
}

/** Synapse answers own-device deletion with 404 M_UNRECOGNIZED once auth is delegated. */
export function isUnrecognised(error: unknown): boolean {
  return error instanceof MatrixError && error.status === 404 && error.errcode === "M_UNRECOGNIZED";
}
