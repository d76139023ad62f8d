import { audited } from "../audit.ts";
import { builder } from "../builder.ts";
import type { Context } from "../context.ts";
import type { MatrixDevice } from "../homeserver/client-server.ts";
import { planInactiveDeletion } from "../inactive-plan.ts";
import { checkUserId } from "../user-id.ts";
import { deleteAsAdmin, type Target, targetOf } from "./admin-target.ts";
import { AuthInput, deleteForTarget } from "./auth.ts";
import { badInput } from "./connection.ts";
import { DELETION_ERRORS, toResultError } from "./errors.ts";
import { checkInactiveDays } from "./user.ts";

interface InactiveDevicesDeletedValue {
  dryRun: boolean;
  deviceIds: string[];
  keptDeviceIds: string[];
}

const InactiveDevicesDeletedRef = builder.simpleObject("InactiveDevicesDeleted", {
  description:
    "The outcome of a clean-up: the inactive devices deleted (or, in a dry run, that would be), " +
    "and every device that stays.",
  fields: (t) => ({
    dryRun: t.boolean({ description: "True when nothing was deleted: the plan only." }),
    deviceIds: t.idList({
      description: "The devices deleted (dry run: that would be), most recently seen first.",
    }),
    keptDeviceIds: t.idList({
      description:
        "Every device of the user that stays (active ones, the `keepLatest` most recently seen " +
        "and the caller's current device), most recently seen first.",
    }),
  }),
});

async function liveDevicesOf(target: Target, ctx: Context) {
  return target.own ? ctx.devices().list() : ctx.admin().devicesOf(target.userId);
}

builder.mutationField("deleteInactiveDevices", (t) =>
  t.field({
    type: InactiveDevicesDeletedRef,
    description:
      "Logs out a user's devices not seen for `inactiveForDays` days, keeping the `keepLatest` " +
      "most recently seen and never the caller's current device, decided on live last-seen " +
      "data (a never-seen device counts as inactive). `dryRun` (the default) only reports the " +
      "plan. Another user's devices go through Synapse's admin API (admins only); the viewer's " +
      "own need user-interactive auth like deleteDevices.",
    errors: {
      types: DELETION_ERRORS,
      union: {
        name: "DeleteInactiveDevicesResult",
        description: "The outcome of deleteInactiveDevices.",
      },
    },
    args: {
      userId: t.arg.string({ required: true, description: "Whose devices to clean up." }),
      inactiveForDays: t.arg.int({
        required: true,
        description: "Devices not seen for this many days are inactive (0 to 36500).",
      }),
      keepLatest: t.arg.int({
        defaultValue: 1,
        description: "How many of the most recently seen devices always stay (0 or more).",
      }),
      dryRun: t.arg.boolean({
        defaultValue: true,
        description: "Only report what would be deleted (the default); false deletes.",
      }),
      auth: t.arg({
        type: AuthInput,
        description: "For the viewer's own devices: a completed UIA stage, once challenged.",
      }),
    },
    resolve: (_root, args, ctx) => {
      const target = {
        userId: args.userId,
        deviceIds: (result: InactiveDevicesDeletedValue | null) =>
          result === null || result.dryRun ? [] : result.deviceIds,
      };
      const success = () => "InactiveDevicesDeleted";
      return audited(ctx, "deleteInactiveDevices", target, success, async () => {
        checkUserId(args.userId);
        const inactiveForDays = checkInactiveDays(args.inactiveForDays);
        const keepLatest = args.keepLatest ?? 1;
        if (!Number.isInteger(keepLatest) || keepLatest < 0) {
          throw badInput(`keepLatest: expected 0 or more, got ${keepLatest}`);
        }
        const dryRun = args.dryRun ?? true;
        let owner: Target;
        let devices: MatrixDevice[];
        let currentDeviceId: string | null;
        try {
          owner = await targetOf(ctx, args.userId);
          devices = await liveDevicesOf(owner, ctx);
          currentDeviceId = owner.own ? (await ctx.viewer()).deviceId : null;
        } catch (error) {
          throw toResultError(error, undefined, args.userId);
        }
        const plan = planInactiveDeletion(devices, {
          now: ctx.now(),
          inactiveForDays,
          keepLatest,
          currentDeviceId,
        });
        const result = { dryRun, deviceIds: plan.deleteIds, keptDeviceIds: plan.keptIds };
        if (dryRun || plan.deleteIds.length === 0) return result;
        if (owner.own) {
          const ids = plan.deleteIds;
          if (ids.length > ctx.maxBulkDevices) {
            throw badInput(
              `${ids.length} devices to delete: at most ${ctx.maxBulkDevices} per call with UIA`,
            );
          }
          await deleteForTarget(ctx, owner, ids, args.auth, (auth) =>
            ctx.session().deleteDevices(ids, auth),
          );
        } else {
          await deleteAsAdmin(ctx, owner.userId, plan.deleteIds);
        }
        return result;
      });
    },
  }),
);
