import { GraphQLError } from "graphql";
import { builder } from "../builder.ts";
import type { Sighting } from "../cache/device-cache.ts";
import type { Context } from "../context.ts";
import { GraphQLErrorCode } from "../error-codes.ts";
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
        "The gateway's last-seen cache, because the homeserver could not be reached " +
        "(the answer carries `extensions.stale`).",
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

builder.queryField("inactiveDevices", (t) =>
  t.field({
    type: [DeviceRef],
    description:
      "The viewer's devices whose last activity is older than `inactiveForDays` days; a device " +
      "never seen active counts from when the gateway first observed it. Refreshed from the " +
      "homeserver first; answered from the cache while it is unreachable, as for `devices`.",
    args: {
      inactiveForDays: t.arg.int({
        required: true,
        description: `Days without activity (0 to ${INACTIVE_DAYS_MAX}).`,
      }),
    },
    resolve: (_root, { inactiveForDays }, ctx) => {
      if (inactiveForDays < 0 || inactiveForDays > INACTIVE_DAYS_MAX) {
        throw badInput(
          `inactiveForDays: expected 0 to ${INACTIVE_DAYS_MAX}, got ${inactiveForDays}`,
        );
      }
      const cutoff = ctx.now() - inactiveForDays * DAY_MS;
      const inactive = (lastSeenTs: number | null, firstObservedAt: Date | null | undefined) => {
        const lastActive = lastSeenTs ?? firstObservedAt?.getTime() ?? null;
        return lastActive !== null && lastActive < cutoff;
      };
      return liveOrCached(
        ctx,
        async () => {
          const devices = await ctx.devices().list();
          const { userId } = await ctx.viewer();
          const views = await Promise.all(
            devices.map(async (device) => {
              const times = (await ctx.cache?.observed(userId, device.deviceId)) ?? null;
              return { ...liveDevice(device), ...times };
            }),
          );
          return views.filter((view) => inactive(view.lastSeenTs, view.firstObservedAt));
        },
        async (cache, viewer) => {
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
