import { audited } from "../audit.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import type { MatrixDevice } from "../homeserver/client-server.ts";
import { renameAsAdmin, targetOf } from "./admin-target.ts";
import {
  DeviceNotFoundError,
  MUTATION_ERRORS,
  orRequestError,
  toResultError,
  UserNotFoundError,
} from "./errors.ts";
import { cachedView, liveOrCached, newestObservation } from "./stale.ts";

/** Where a device's data came from in this answer. */
export type DeviceSource = "LIVE" | "CACHE";

/** What a `Device` field resolves from: the homeserver's device plus its owner. */
export interface DeviceView extends MatrixDevice {
  /** The owner; null means the viewer (the client-server API does not repeat it). */
  userId: string | null;
  source: DeviceSource;
  /** Known up front for cached rows; for live ones asked of the cache when a query wants them. */
  firstObservedAt?: Date | null;
  lastObservedAt?: Date | null;
  /** Known up front for cached rows (answered without asking the homeserver who the viewer is). */
  isCurrent?: boolean;
}

export function liveDevice(device: MatrixDevice, userId: string | null = null): DeviceView {
  // Field by field rather than a spread: one object shape for every device (a hot path).
  return {
    deviceId: device.deviceId,
    displayName: device.displayName,
    lastSeenIp: device.lastSeenIp,
    lastSeenTs: device.lastSeenTs,
    lastSeenUserAgent: device.lastSeenUserAgent,
    userId,
    source: "LIVE",
  };
}

export const DeviceRef = builder.objectRef<DeviceView>("Device").implement({
  description:
    "A device (session) of a Matrix user: one login, with its own access token. Display names " +
    "are visible to other users.",
  fields: (t) => ({
    deviceId: t.exposeID("deviceId", { description: "The device id (opaque)." }),
    userId: t.string({
      description: "The Matrix user id owning the device.",
      resolve: async (device, _args, ctx) =>
        device.userId ?? (await orRequestError(ctx.viewer())).userId,
    }),
    displayName: t.exposeString("displayName", {
      nullable: true,
      description: "The name set by the user; public to other users. Null when none is set.",
    }),
    lastSeenIp: t.exposeString("lastSeenIp", {
      nullable: true,
      description: "The IP address the device was last seen at; null if never used.",
    }),
    lastSeenTs: t.field({
      type: "Timestamp",
      nullable: true,
      description: "When the device was last seen, in ms since the epoch; null if never used.",
      resolve: (device) => device.lastSeenTs,
    }),
    lastSeenAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "`lastSeenTs` as an ISO-8601 instant; null if never used.",
      resolve: (device) => (device.lastSeenTs === null ? null : new Date(device.lastSeenTs)),
    }),
    lastSeenUserAgent: t.exposeString("lastSeenUserAgent", {
      nullable: true,
      description:
        "The user agent the device was last seen with; only admin views (Synapse's admin API) " +
        "supply it, null elsewhere.",
    }),
    isCurrent: t.boolean({
      description: "Whether this is the device of the access token making this request.",
      resolve: async (device, _args, ctx) => {
        if (device.isCurrent !== undefined) return device.isCurrent;
        const viewer = await orRequestError(ctx.viewer());
        return (
          (device.userId ?? viewer.userId) === viewer.userId && device.deviceId === viewer.deviceId
        );
      },
    }),
  }),
});

/** The viewer's devices, live; during an outage the cached ones (`Query.devices`, `Viewer.devices`). */
export function viewerDevices(ctx: Context) {
  return liveOrCached(
    ctx,
    async () => (await ctx.devices().list()).map((device) => liveDevice(device)),
    async (cache, viewer) => {
      const rows = await cache.list(viewer.userId);
      return {
        value: rows.map((row) => cachedView(row, viewer)),
        cachedAt: newestObservation(rows),
      };
    },
  );
}

builder.queryFields((t) => ({
  devices: t.field({
    type: [DeviceRef],
    description:
      "The viewer's devices (GET /devices). While the homeserver is unreachable: the cached ones " +
      "(`source: CACHE`, `extensions.stale`), for a token seen within STALE_IDENTITY_TTL_S.",
    resolve: (_root, _args, ctx) => viewerDevices(ctx),
  }),
  device: t.field({
    type: DeviceRef,
    nullable: true,
    description:
      "One of the viewer's devices; null when the homeserver has no such device. While the " +
      "homeserver is unreachable: the cached one, as for `devices`.",
    args: { deviceId: t.arg.id({ required: true, description: "The device id." }) },
    resolve: (_root, { deviceId }, ctx) =>
      liveOrCached(
        ctx,
        async () => {
          const device = await ctx.devices().byId(String(deviceId));
          return device === null ? null : liveDevice(device);
        },
        async (cache, viewer) => {
          const row = await cache.get(viewer.userId, String(deviceId));
          return {
            value: row === null ? null : cachedView(row, viewer),
            cachedAt: row?.lastObservedAt ?? null,
          };
        },
      ),
  }),
}));

const DeviceRenamedRef = builder.simpleObject("DeviceRenamed", {
  description: "The device was renamed.",
  fields: (t) => ({
    device: t.field({ type: DeviceRef, description: "The device, as the homeserver now has it." }),
  }),
});

builder.mutationField("renameDevice", (t) =>
  t.field({
    type: DeviceRenamedRef,
    description:
      "Sets a device's display name (PUT /devices/{deviceId}). Names are visible to other users. " +
      "A name over the homeserver's limit is BAD_USER_INPUT (errcode M_TOO_LARGE). With " +
      "`userId` of another user it goes through Synapse's admin API (admins only, else Forbidden).",
    errors: {
      types: [DeviceNotFoundError, UserNotFoundError, ...MUTATION_ERRORS],
      union: { name: "RenameDeviceResult", description: "The outcome of renameDevice." },
    },
    args: {
      deviceId: t.arg.id({ required: true, description: "The device to rename." }),
      displayName: t.arg.string({ required: true, description: "The new display name." }),
      userId: t.arg.string({
        description:
          "The device's owner. Omitted or the viewer: the viewer's own device (client-server " +
          "API); another user: Synapse's admin API, for homeserver admins.",
      }),
    },
    resolve: (_root, args, ctx) => {
      const deviceId = String(args.deviceId);
      const target = { userId: args.userId, deviceIds: [deviceId] };
      return audited(
        ctx,
        "renameDevice",
        target,
        () => "DeviceRenamed",
        async () => {
          try {
            const owner = await targetOf(ctx, args.userId);
            if (!owner.own) {
              return { device: await renameAsAdmin(ctx, owner.userId, deviceId, args.displayName) };
            }
            await ctx.session().renameDevice(deviceId, args.displayName);
            const loader = ctx.devices();
            loader.forget();
            const device = await loader.byId(deviceId);
            if (device === null) throw new DeviceNotFoundError(deviceId);
            return { device: liveDevice(device) };
          } catch (error) {
            throw toResultError(error, deviceId);
          }
        },
      );
    },
  }),
);
