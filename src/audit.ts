import { GraphQLError } from "graphql";
import type { Context } from "./context.ts";
import { MatrixError } from "./homeserver/errors.ts";
import {
  AuthRequiredError,
  DeviceNotFoundError,
  ForbiddenError,
  ManagedByAccountServiceError,
  RateLimitedError,
  UserNotFoundError,
} from "./schema/errors.ts";

/** What a mutation says about whom it targets; never its `auth`, password or anything secret. */
export interface AuditTarget<R> {
  /** The `userId` argument as given; omitted = the viewer. */
  userId: string | null | undefined;
  /** The device ids named, or (for computed ones) read from the result. */
  deviceIds: string[] | ((result: R | null) => string[]);
}

const RESULT_TYPENAMES: [new (...args: never[]) => Error, string][] = [
  [AuthRequiredError, "AuthRequired"],
  [DeviceNotFoundError, "DeviceNotFound"],
  [ForbiddenError, "Forbidden"],
  [RateLimitedError, "RateLimited"],
  [UserNotFoundError, "UserNotFound"],
  [ManagedByAccountServiceError, "ManagedByAccountService"],
];

/** A refusal or failure as an audit outcome: the union member's typename or the error code. */
export function outcomeOf(error: unknown): string {
  for (const [type, typename] of RESULT_TYPENAMES) if (error instanceof type) return typename;
  if (error instanceof GraphQLError) {
    const code = error.extensions.code;
    return typeof code === "string" ? code : "GRAPHQL_ERROR";
  }
  if (error instanceof MatrixError) return error.errcode;
  return "INTERNAL_ERROR";
}

/**
 * Runs one mutation and records it, allowed or refused: actor, action, target, device ids,
 * outcome and request id. A failing audit store is logged and never fails the mutation.
 */
export async function audited<R>(
  ctx: Context,
  action: string,
  target: AuditTarget<R>,
  success: (result: R) => string,
  run: () => Promise<R>,
): Promise<R> {
  let result: R | null = null;
  let outcome = "INTERNAL_ERROR";
  try {
    result = await run();
    outcome = success(result);
    return result;
  } catch (error) {
    outcome = outcomeOf(error);
    throw error;
  } finally {
    const store = ctx.auditStore;
    if (store !== null) {
      // No token or a dead one: the refusal is still recorded, without an actor.
      const actor = await Promise.resolve()
        .then(() => ctx.viewer())
        .catch(() => null);
      const deviceIds =
        typeof target.deviceIds === "function" ? target.deviceIds(result) : target.deviceIds;
      try {
        await store.record({
          actorUserId: actor?.userId ?? null,
          action,
          targetUserId: target.userId ?? actor?.userId ?? null,
          deviceIds,
          outcome,
          requestId: ctx.requestId,
          at: new Date(ctx.now()),
        });
      } catch (error) {
        ctx.logger.error({ action, error: (error as Error).name }, "audit record failed");
      }
    }
  }
}
