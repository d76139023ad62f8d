import { builder } from "../builder.ts";
import type { InactivePosition } from "../cache/inactive-page.ts";
import { MatrixError } from "../homeserver/errors.ts";
import { viewerIsAdmin } from "./admin-target.ts";
import {
  connectionRef,
  decodeJsonCursor,
  emptyConnection,
  encodeJsonCursor,
  foreignCursor,
  pageSize,
} from "./connection.ts";
import { DeviceRef, type DeviceView } from "./device.ts";
import { orRequestError, toRequestError } from "./errors.ts";
import { cachedView } from "./stale.ts";
import { checkInactiveDays } from "./user.ts";

const DAY_MS = 86_400_000;

const DeviceConnectionRef = connectionRef(DeviceRef, {
  type: "Device",
  singular: "device",
  plural: "devices",
  description: "A page of devices",
});

/** A cursor holds the position of its device: [last activity in ms, user id, device id]. */
const INACTIVE_CURSOR = "inactive";

function cursorOf(position: InactivePosition): string {
  return encodeJsonCursor(INACTIVE_CURSOR, [
    position.lastActiveMs,
    position.userId,
    position.deviceId,
  ]);
}

function positionOf(after: string | null | undefined): InactivePosition | null {
  if (after === null || after === undefined) return null;
  const value = decodeJsonCursor(INACTIVE_CURSOR, after);
  if (!Array.isArray(value) || value.length !== 3) throw foreignCursor();
  const [lastActiveMs, userId, deviceId] = value as unknown[];
  if (
    typeof lastActiveMs !== "number" ||
    !Number.isSafeInteger(lastActiveMs) ||
    typeof userId !== "string" ||
    typeof deviceId !== "string"
  ) {
    throw foreignCursor();
  }
  return { lastActiveMs, userId, deviceId };
}

builder.queryField("inactiveDevicesAcrossUsers", (t) =>
  t.field({
    type: DeviceConnectionRef,
    description:
      "Every user's devices whose last activity is older than `inactiveForDays` days, oldest " +
      "activity first (a device never seen active counts from when the gateway first observed " +
      "it), from the gateway's last-seen cache: the devices it has recorded (as of its last " +
      "write), not known to be deleted (`source: CACHE`). Homeserver admins only: one admin call proves it, FORBIDDEN " +
      "otherwise; while the homeserver is unreachable the request fails (no stale answer). " +
      "Empty when the gateway runs without a cache.",
    args: {
      inactiveForDays: t.arg.int({
        required: true,
        description: "Days without activity (0 to 36500).",
      }),
      first: t.arg.int({ description: "How many devices per page (0 to 100; default 50)." }),
      after: t.arg.string({ description: "The `endCursor` of the previous page." }),
    },
    resolve: async (_root, args, ctx) => {
      const inactiveForDays = checkInactiveDays(args.inactiveForDays);
      const first = pageSize(args.first);
      const after = positionOf(args.after);
      const viewer = await orRequestError(ctx.viewer());
      if (!(await viewerIsAdmin(ctx, viewer.userId))) {
        throw toRequestError(
          new MatrixError(403, "M_FORBIDDEN", "Only admins may list every user's devices"),
        );
      }
      if (ctx.cache === null) return emptyConnection<DeviceView>();
      const page = await ctx.cache.inactiveAcrossUsers({
        cutoffMs: ctx.now() - inactiveForDays * DAY_MS,
        first,
        after,
      });
      const edges = page.devices.map(({ device, position }) => ({
        cursor: cursorOf(position),
        node: cachedView(device, viewer),
      }));
      return {
        totalCount: page.totalCount,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
        edges,
      };
    },
  }),
);
