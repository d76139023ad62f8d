import { GraphQLError } from "graphql";
import { audited } from "../audit.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { GraphQLErrorCode } from "../error-codes.ts";
import type { AuthDict } from "../homeserver/client-server.ts";
import { type AuthInputValue, callWithUia, toAuthDict } from "../homeserver/uia.ts";
import {
  delegatedDeletion,
  deleteAsAdmin,
  isUnrecognised,
  type Target,
  targetOf,
} from "./admin-target.ts";
import { DELETION_ERRORS, DeviceNotFoundError, toResultError } from "./errors.ts";

export const AuthInput = builder.inputType("AuthInput", {
  description:
    "One stage of user-interactive auth, answering an `AuthRequired` challenge. Never stored or " +
    "logged.",
  fields: (t) => ({
    type: t.string({
      required: true,
      description: "The stage type: m.login.password, m.login.dummy, m.login.sso, …",
    }),
    session: t.string({ description: "The session from the `AuthRequired` being answered." }),
    password: t.string({ description: "For m.login.password: the user's password." }),
    user: t.string({
      description:
        "For m.login.password: the user to authenticate as (default: the viewer's user id).",
    }),
    extra: t.field({
      type: "JSON",
      description:
        "Any other fields of the stage (a JSON object), sent to the homeserver as given.",
    }),
  }),
});

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: GraphQLErrorCode.BadUserInput } });
}

/** Turns `AuthInput` into the Matrix auth dict, checking what the GraphQL types cannot. */
async function authDict(ctx: Context, input: AuthInputValue | null | undefined) {
  if (input === null || input === undefined) return null;
  const { extra } = input;
  if (
    extra !== null &&
    extra !== undefined &&
    (typeof extra !== "object" || Array.isArray(extra))
  ) {
    throw badInput("AuthInput.extra must be a JSON object");
  }
  if (input.type === "m.login.password" && !input.password) {
    throw badInput("AuthInput.password is required for m.login.password");
  }
  const needsViewer = input.type === "m.login.password" && !input.user;
  const viewerId = needsViewer ? (await ctx.viewer()).userId : "";
  return toAuthDict(input, viewerId);
}

async function deleteWithUia(
  ctx: Context,
  deviceIds: string[],
  input: AuthInputValue | null | undefined,
  call: (auth: AuthDict | null) => Promise<void>,
): Promise<void> {
  try {
    await callWithUia(call, await authDict(ctx, input));
  } catch (error) {
    throw toResultError(error, deviceIds.length === 1 ? deviceIds[0] : undefined);
  }
  ctx.session().forgetIdentityIfDeleted(deviceIds);
  ctx.devices().forget();
}

/**
 * Deletes devices on the path `targetOf` chose: another user's through the admin API; the
 * viewer's own with UIA, or (auth delegated to an OAuth server) not at all: the account
 * service's deep link is the answer, and no DELETE goes upstream.
 */
async function deleteFor(
  ctx: Context,
  userId: string | null | undefined,
  deviceIds: string[],
  input: AuthInputValue | null | undefined,
  call: (auth: AuthDict | null) => Promise<void>,
): Promise<void> {
  let target: Target;
  try {
    target = await targetOf(ctx, userId);
  } catch (error) {
    throw toResultError(error);
  }
  await deleteForTarget(ctx, target, deviceIds, input, call);
}

/** `deleteFor` once the target is known. */
export async function deleteForTarget(
  ctx: Context,
  target: Target,
  deviceIds: string[],
  input: AuthInputValue | null | undefined,
  call: (auth: AuthDict | null) => Promise<void>,
): Promise<void> {
  if (!target.own) return deleteAsAdmin(ctx, target.userId, deviceIds);
  const managed = await delegatedDeletion(ctx, deviceIds);
  if (managed !== null) throw managed;
  try {
    await deleteWithUia(ctx, deviceIds, input, call);
  } catch (error) {
    if (!isUnrecognised(error)) throw error;
    // Delegation began since we last asked: ask again, and link the account service.
    ctx.authMetadata.invalidate();
    throw (await delegatedDeletion(ctx, deviceIds)) ?? error;
  }
}

const USER_ID_ARG_DESCRIPTION =
  "The devices' owner. Omitted or the viewer: the viewer's own devices (client-server API, " +
  "user-interactive auth even for admins); another user: Synapse's admin API, for homeserver " +
  "admins (no UIA).";

const DeviceDeletedRef = builder.simpleObject("DeviceDeleted", {
  description: "The device is gone (or was already), and its access token with it.",
  fields: (t) => ({ deviceId: t.id({ description: "The deleted device's id." }) }),
});

const DevicesDeletedRef = builder.simpleObject("DevicesDeleted", {
  description: "The devices are gone (or were already), and their access tokens with them.",
  fields: (t) => ({ deviceIds: t.idList({ description: "The deleted devices' ids." }) }),
});

builder.mutationFields((t) => ({
  deleteDevice: t.field({
    type: DeviceDeletedRef,
    description:
      "Deletes a device and logs it out (DELETE /devices/{deviceId}). Needs user-interactive " +
      "auth: call without `auth` to get `AuthRequired`, then again with a completed stage. " +
      "Another user's device (`userId`) goes through Synapse's admin API instead; on an " +
      "OAuth-delegated homeserver the viewer's own device yields `ManagedByAccountService`.",
    errors: {
      types: [DeviceNotFoundError, ...DELETION_ERRORS],
      union: { name: "DeleteDeviceResult", description: "The outcome of deleteDevice." },
    },
    args: {
      deviceId: t.arg.id({ required: true, description: "The device to delete." }),
      auth: t.arg({ type: AuthInput, description: "A completed UIA stage, once challenged." }),
      userId: t.arg.string({ description: USER_ID_ARG_DESCRIPTION }),
    },
    resolve: (_root, args, ctx) => {
      const deviceId = String(args.deviceId);
      const target = { userId: args.userId, deviceIds: [deviceId] };
      return audited(
        ctx,
        "deleteDevice",
        target,
        () => "DeviceDeleted",
        async () => {
          await deleteFor(ctx, args.userId, [deviceId], args.auth, (auth) =>
            ctx.session().deleteDevice(deviceId, auth),
          );
          return { deviceId };
        },
      );
    },
  }),
  deleteDevices: t.field({
    type: DevicesDeletedRef,
    description:
      "Deletes several devices at once (POST /delete_devices), with user-interactive auth like " +
      "deleteDevice (and the same `userId` and OAuth-delegation rules). Ids the homeserver does " +
      "not know are ignored by it.",
    errors: {
      types: DELETION_ERRORS,
      union: { name: "DeleteDevicesResult", description: "The outcome of deleteDevices." },
    },
    args: {
      deviceIds: t.arg.idList({ required: true, description: "The devices to delete." }),
      auth: t.arg({ type: AuthInput, description: "A completed UIA stage, once challenged." }),
      userId: t.arg.string({ description: USER_ID_ARG_DESCRIPTION }),
    },
    resolve: (_root, args, ctx) => {
      const deviceIds = [...new Set(args.deviceIds.map(String))];
      const target = { userId: args.userId, deviceIds };
      return audited(
        ctx,
        "deleteDevices",
        target,
        () => "DevicesDeleted",
        async () => {
          if (deviceIds.length > ctx.maxBulkDevices) {
            throw badInput(`deviceIds: at most ${ctx.maxBulkDevices} devices per call`);
          }
          if (deviceIds.length === 0) throw badInput("deviceIds: name at least one device");
          await deleteFor(ctx, args.userId, deviceIds, args.auth, (auth) =>
            ctx.session().deleteDevices(deviceIds, auth),
          );
          return { deviceIds };
        },
      );
    },
  }),
}));
