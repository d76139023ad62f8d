import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import type { AdminUser } from "../homeserver/admin-api.ts";
import { isInactive } from "../inactive-plan.ts";
import { checkUserId } from "../user-id.ts";
import {
  badInput,
  connectionRef,
  decodeCursor,
  encodeCursor,
  foreignCursor,
  pageSize,
} from "./connection.ts";
import { DeviceRef, type DeviceView, liveDevice } from "./device.ts";
import { orRequestError } from "./errors.ts";

/** Longest `inactiveForDays` accepted: a hundred years. */
const MAX_INACTIVE_DAYS = 36_500;

export function checkInactiveDays(days: number): number {
  if (!Number.isInteger(days) || days < 0 || days > MAX_INACTIVE_DAYS) {
    throw badInput(`inactiveForDays: expected 0 to ${MAX_INACTIVE_DAYS}, got ${days}`);
  }
  return days;
}

async function adminDevices(ctx: Context, userId: string): Promise<DeviceView[]> {
  const devices = await orRequestError(ctx.admin().devicesOf(userId));
  return devices.map((device) => liveDevice(device, userId));
}

export const UserRef = builder.objectRef<AdminUser>("User").implement({
  description:
    "A local user of the homeserver, as Synapse's admin API shows them (homeserver admins only).",
  fields: (t) => ({
    userId: t.exposeString("userId", { description: "The Matrix user id." }),
    displayName: t.exposeString("displayName", {
      nullable: true,
      description: "The user's display name; null when none is set.",
    }),
    isAdmin: t.exposeBoolean("isAdmin", { description: "Whether the user is a server admin." }),
    deactivated: t.exposeBoolean("deactivated", {
      description: "Whether the account is deactivated.",
    }),
    devices: t.field({
      type: [DeviceRef],
      description:
        "The user's devices, with user agents (one admin GET per user per request, shared " +
        "by `device` and `inactiveDevices`).",
      resolve: (user, _args, ctx) => adminDevices(ctx, user.userId),
    }),
    device: t.field({
      type: DeviceRef,
      nullable: true,
      description: "One of the user's devices; null when the user has no such device.",
      args: { deviceId: t.arg.id({ required: true, description: "The device id." }) },
      resolve: async (user, { deviceId }, ctx) =>
        (await adminDevices(ctx, user.userId)).find((d) => d.deviceId === String(deviceId)) ?? null,
    }),
    inactiveDevices: t.field({
      type: [DeviceRef],
      description:
        "The user's devices not seen for `inactiveForDays` days, from live last-seen data; a " +
        "device never seen counts as inactive.",
      args: {
        inactiveForDays: t.arg.int({
          required: true,
          description: "How many days without activity make a device inactive (0 to 36500).",
        }),
      },
      resolve: async (user, { inactiveForDays }, ctx) => {
        checkInactiveDays(inactiveForDays);
        const now = ctx.now();
        return (await adminDevices(ctx, user.userId)).filter((d) =>
          isInactive(d, now, inactiveForDays),
        );
      },
    }),
  }),
});

const UserConnectionRef = connectionRef(UserRef, {
  type: "User",
  singular: "user",
  plural: "users",
  description: "A page of the homeserver's users",
});

const USERS_CURSOR = "users";

function offsetOf(after: string | null | undefined): number {
  if (after === null || after === undefined) return 0;
  const payload = decodeCursor(USERS_CURSOR, after);
  if (!/^\d{1,9}$/.test(payload)) throw foreignCursor();
  return Number(payload);
}

builder.queryFields((t) => ({
  user: t.field({
    type: UserRef,
    nullable: true,
    description:
      "A local user (GET /_synapse/admin/v2/users/{userId}); null when there is no such user. " +
      "Homeserver admins only: FORBIDDEN otherwise; a remote user is BAD_USER_INPUT.",
    args: {
      userId: t.arg.string({ required: true, description: "A user id, e.g. @bob:example.org." }),
    },
    resolve: (_root, { userId }, ctx) => {
      checkUserId(userId);
      return orRequestError(ctx.admin().user(userId));
    },
  }),
  users: t.field({
    type: UserConnectionRef,
    description:
      "The homeserver's users, a page at a time (GET /_synapse/admin/v2/users, deactivated " +
      "users left out). Homeserver admins only: FORBIDDEN otherwise.",
    args: {
      first: t.arg.int({
        defaultValue: 50,
        description: "How many users per page (0 to 100).",
      }),
      after: t.arg.string({ description: "The `endCursor` of the previous page." }),
      search: t.arg.string({
        description: "Only users whose localpart or display name contains this (any case).",
      }),
    },
    resolve: async (_root, args, ctx) => {
      const limit = pageSize(args.first);
      const from = offsetOf(args.after);
      const admin = ctx.admin();
      const page = await orRequestError(
        admin.call((api, token) =>
          api.listUsers(token, { from, limit, name: args.search || null }),
        ),
      );
      const edges = page.users.map((node, index) => {
        admin.primeUser(node);
        return { cursor: encodeCursor(USERS_CURSOR, String(from + index + 1)), node };
      });
      return {
        totalCount: page.total,
        pageInfo: { hasNextPage: page.nextFrom !== null, endCursor: edges.at(-1)?.cursor ?? null },
        edges,
      };
    },
  }),
}));
