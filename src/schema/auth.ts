import { GraphQLError } from "graphql";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import { GraphQLErrorCode } from "../error-codes.ts";
import type { AuthDict } from "../homeserver/client-server.ts";
import { type AuthInputValue, callWithUia, toAuthDict } from "../homeserver/uia.ts";
import {
  AuthRequiredError,
  DeviceNotFoundError,
  MUTATION_ERRORS,
  toResultError,
} from "./errors.ts";

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
      "auth: call without `auth` to get `AuthRequired`, then again with a completed stage.",
    errors: {
      types: [AuthRequiredError, DeviceNotFoundError, ...MUTATION_ERRORS],
      union: { name: "DeleteDeviceResult", description: "The outcome of deleteDevice." },
    },
    args: {
      deviceId: t.arg.id({ required: true, description: "The device to delete." }),
      auth: t.arg({ type: AuthInput, description: "A completed UIA stage, once challenged." }),
    },
    resolve: async (_root, args, ctx) => {
      const deviceId = String(args.deviceId);
      await deleteWithUia(ctx, [deviceId], args.auth, (auth) =>
        ctx.session().deleteDevice(deviceId, auth),
      );
      return { deviceId };
    },
  }),
  deleteDevices: t.field({
    type: DevicesDeletedRef,
    description:
      "Deletes several devices at once (POST /delete_devices), with user-interactive auth like " +
      "deleteDevice. Ids the homeserver does not know are ignored by it.",
    errors: {
      types: [AuthRequiredError, ...MUTATION_ERRORS],
      union: { name: "DeleteDevicesResult", description: "The outcome of deleteDevices." },
    },
    args: {
      deviceIds: t.arg.idList({ required: true, description: "The devices to delete." }),
      auth: t.arg({ type: AuthInput, description: "A completed UIA stage, once challenged." }),
    },
    resolve: async (_root, args, ctx) => {
      const deviceIds = [...new Set(args.deviceIds.map(String))];
      if (deviceIds.length > ctx.maxBulkDevices) {
        throw badInput(`deviceIds: at most ${ctx.maxBulkDevices} devices per call`);
      }
      if (deviceIds.length === 0) throw badInput("deviceIds: name at least one device");
      await deleteWithUia(ctx, deviceIds, args.auth, (auth) =>
        ctx.session().deleteDevices(deviceIds, auth),
      );
      return { deviceIds };
    },
  }),
}));
