import { GraphQLError } from "graphql";
import { builder } from "../builder.ts";
import type { Sighting } from "../cache/device-cache.ts";
import type { Context } from "../context.ts";
import { GraphQLErrorCode } from "../error-codes.ts";
import type { MatrixDevice } from "../homeserver/client-server.ts";
import { MatrixError } from "../homeserver/errors.ts";
import { checkUserId } from "../user-id.ts";
import { DeviceRef, type DeviceView, liveDevice } from "./device.ts";
import { orRequestError } from "./errors.ts";
import { cachedView, liveOrCached, newestObservation } from "./stale.ts";

/** Most sightings one `history` field returns. */
export const HISTORY_LIMIT_MAX = 100;
/** Largest `inactiveForDays` (100 years: anything above is a mistake). */
export const INACTIVE_DAYS_MAX = 36_500;
const DAY_MS = 86_400_000;

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: GraphQLErrorCode.BadUserInput } });
}

const DeviceSourceRef = builder.enumType("DeviceSource", {
  description: "Where a device's data in this answer came from.",
  values: {
    LIVE: { description: "The homeserver, during this request." },
    CACHE: {
      description:
        "The gateway's last-seen cache: because the homeserver could not be reached (the " +
        "answer carries `extensions.stale`), or because the field reads the cache by design " +
        "(`inactiveDevicesAcrossUsers`).",
    },
  } as const,
});

const DeviceSightingRef = builder.objectRef<Sighting>("DeviceSighting").implement({
  description:
    "A last-seen (IP, time) pair of a device, as the gateway saw the homeserver report it.",
  fields: (t) => ({
    ip: t.exposeString("ip", { nullable: true, description: "The IP address it was seen at." }),
    seenAt: t.field({
      type: "DateTime",
      description: "When the homeserver says it was seen there.",
      resolve: (sighting) => sighting.seenAt,
    }),
  }),
});

async function ownerOf(device: DeviceView, ctx: Context): Promise<string> {
  return device.userId ?? (await orRequestError(ctx.viewer())).userId;
}

async function observedTimes(device: DeviceView, ctx: Context) {
  if (device.firstObservedAt !== undefined || ctx.cache === null) return null;
  return ctx.cache.observed(await ownerOf(device, ctx), device.deviceId);
}

builder.objectFields(DeviceRef, (t) => ({
  source: t.field({
    type: DeviceSourceRef,
    description: "LIVE from the homeserver, or CACHE while it is unreachable.",
    resolve: (device) => device.source,
  }),
  firstObservedAt: t.field({
    type: "DateTime",
    nullable: true,
    description: "When the gateway first saw this device; null without a cache.",
    resolve: async (device, _args, ctx) =>
      device.firstObservedAt ?? (await observedTimes(device, ctx))?.firstObservedAt ?? null,
  }),
  lastObservedAt: t.field({
    type: "DateTime",
    nullable: true,
    description:
      "When the gateway last saw this device in a homeserver answer (refreshed at most once a " +
      "minute while nothing changes); null without a cache.",
    resolve: async (device, _args, ctx) =>
      device.lastObservedAt ?? (await observedTimes(device, ctx))?.lastObservedAt ?? null,
  }),
  history: t.field({
    type: [DeviceSightingRef],
    description:
      "Where and when the device was last seen, each time that changed, newest first (kept " +
      "RETENTION_DAYS). Empty without a cache.",
    args: {
      limit: t.arg.int({
        defaultValue: 20,
        required: true,
        description: `How many sightings, at most (0 to ${HISTORY_LIMIT_MAX}).`,
      }),
    },
    resolve: async (device, { limit }, ctx) => {
      if (limit < 0 || limit > HISTORY_LIMIT_MAX) {
        throw badInput(`limit: expected 0 to ${HISTORY_LIMIT_MAX}, got ${limit}`);
      }
      if (ctx.cache === null) return [];
      return ctx.cache.history(await ownerOf(device, ctx), device.deviceId, limit);
    },
  }),
}));

/** Another user's devices through the admin API; an unknown user is BAD_USER_INPUT. */
async function devicesOfUser(ctx: Context, userId: string): Promise<MatrixDevice[]> {
  try {
    return await ctx.admin().devicesOf(userId);
  } catch (error) {
    if (error instanceof MatrixError && error.status === 404 && error.errcode === "M_NOT_FOUND") {
      throw new GraphQLError(`No user ${JSON.stringify(userId)} on this homeserver`, {
        extensions: { code: GraphQLErrorCode.BadUserInput, errcode: error.errcode },
      });
    }
    throw error;
  }
}

/** The live devices of `userId` (omitted = the viewer's), and whose they are. */
async function liveDevicesOf(
  ctx: Context,
  userId: string | null | undefined,
): Promise<{ owner: string; devices: MatrixDevice[]; own: boolean }> {
  if (userId === null || userId === undefined) {
    const devices = await ctx.devices().list();
    return { owner: (await ctx.viewer()).userId, devices, own: true };
  }
  const viewer = await ctx.viewer();
  if (userId === viewer.userId) {
    return { owner: userId, devices: await ctx.devices().list(), own: true };
  }
  return { owner: userId, devices: await devicesOfUser(ctx, userId), own: false };
}

builder.queryField("inactiveDevices", (t) =>
  t.field({
    type: [DeviceRef],
    description:
      "Devices whose last activity is older than `inactiveForDays` days; a device never seen " +
      "active counts from when the gateway first observed it. The viewer's own devices (or, " +
      "with `userId`, another user's: homeserver admins only), refreshed from the homeserver " +
      "first. While it is unreachable the viewer's own are answered from the cache, as for " +
      "`devices`; another user's never are (the cache cannot prove the caller is still an " +
      "admin): the request fails with UPSTREAM_UNAVAILABLE or UPSTREAM_TIMEOUT.",
    args: {
      inactiveForDays: t.arg.int({
        required: true,
        description: `Days without activity (0 to ${INACTIVE_DAYS_MAX}).`,
      }),
      userId: t.arg.string({
        description:
          "Whose devices: omitted or the viewer's own id = the viewer's. Another user's go " +
          "through Synapse's admin API: FORBIDDEN for non-admins, BAD_USER_INPUT for a " +
          "malformed id, an unknown user (errcode M_NOT_FOUND) or a remote one.",
      }),
    },
    resolve: (_root, { inactiveForDays, userId }, ctx) => {
      if (inactiveForDays < 0 || inactiveForDays > INACTIVE_DAYS_MAX) {
        throw badInput(
          `inactiveForDays: expected 0 to ${INACTIVE_DAYS_MAX}, got ${inactiveForDays}`,
        );
      }
      if (userId !== null && userId !== undefined) checkUserId(userId);
      const cutoff = ctx.now() - inactiveForDays * DAY_MS;
      const inactive = (lastSeenTs: number | null, firstObservedAt: Date | null | undefined) => {
        const lastActive = lastSeenTs ?? firstObservedAt?.getTime() ?? null;
        return lastActive !== null && lastActive < cutoff;
      };
      return liveOrCached(
        ctx,
        async () => {
          const { owner, devices, own } = await liveDevicesOf(ctx, userId);
          const views = await Promise.all(
            devices.map(async (device) => {
              const times = (await ctx.cache?.observed(owner, device.deviceId)) ?? null;
              return { ...liveDevice(device, own ? null : owner), ...times };
            }),
          );
          return views.filter((view) => inactive(view.lastSeenTs, view.firstObservedAt));
        },
        async (cache, viewer) => {
          // No cross-user answers from the cache: admin-ness cannot be proven during an outage.
          if (userId !== null && userId !== undefined && userId !== viewer.userId) return null;
          const rows = await cache.list(viewer.userId);
          return {
            value: rows
              .filter((row) => inactive(row.lastSeenTs, row.firstObservedAt))
              .map((row) => cachedView(row, viewer)),
            cachedAt: newestObservation(rows),
          };
        },
      );
    },
  }),
);
