import type { MatrixDevice } from "./homeserver/client-server.ts";

export const DAY_MS = 24 * 3600_000;

/** Not seen within `inactiveForDays` of `now`; a never-seen device counts as inactive. */
export function isInactive(device: MatrixDevice, now: number, inactiveForDays: number): boolean {
  return device.lastSeenTs === null || device.lastSeenTs < now - inactiveForDays * DAY_MS;
}

/** Most recently seen first; never seen last; ties by device id. */
export function byRecency(a: MatrixDevice, b: MatrixDevice): number {
  const at = a.lastSeenTs ?? Number.NEGATIVE_INFINITY;
  const bt = b.lastSeenTs ?? Number.NEGATIVE_INFINITY;
  if (at !== bt) return bt - at;
  return a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0;
}

export interface InactivePlan {
  /** The inactive devices to delete, most recently seen first. */
  deleteIds: string[];
  /** Every device that stays, most recently seen first. */
  keptIds: string[];
}

/**
 * Which devices a clean-up deletes, decided on live last-seen data: the inactive ones, except
 * the `keepLatest` most recently seen devices (so never fewer than that remain) and the
 * caller's current device.
 */
export function planInactiveDeletion(
  devices: MatrixDevice[],
  options: {
    now: number;
    inactiveForDays: number;
    keepLatest: number;
    currentDeviceId: string | null;
  },
): InactivePlan {
  const ordered = [...devices].sort(byRecency);
  const deleteIds: string[] = [];
  const keptIds: string[] = [];
  ordered.forEach((device, index) => {
    const protectedDevice =
      index < options.keepLatest || device.deviceId === options.currentDeviceId;
    if (!protectedDevice && isInactive(device, options.now, options.inactiveForDays)) {
      deleteIds.push(device.deviceId);
    } else {
      keptIds.push(device.deviceId);
    }
  });
  return { deleteIds, keptIds };
}
