import { GraphQLError } from "graphql";
import { builder } from "../builder.ts";
import { GraphQLErrorCode } from "../error-codes.ts";
import {
  type AuthFlow,
  HomeserverTimeout,
  HomeserverUnreachable,
  MatrixError,
  UiaChallenge,
} from "../homeserver/errors.ts";

/** The device named does not exist (for this user). */
export class DeviceNotFoundError extends Error {
  constructor(readonly deviceId: string) {
    super(`No device ${JSON.stringify(deviceId)} for this user`);
  }
}

/** The homeserver has no such (local) user. */
export class UserNotFoundError extends Error {
  constructor(readonly userId: string) {
    super(`No user ${JSON.stringify(userId)} on this homeserver`);
  }
}

/**
 * Auth is delegated to an OAuth 2.0 server (MAS): the user ends their own devices there, so the
 * gateway answers with the deep link instead of calling the homeserver's delete endpoint.
 */
export class ManagedByAccountServiceError extends Error {
  constructor(
    readonly accountManagementUrl: string,
    readonly action: string,
  ) {
    super("Devices are managed by the account management service: follow accountManagementUrl");
  }
}

/** The homeserver refused: not allowed, or credentials of another user. */
export class ForbiddenError extends Error {
  constructor(
    readonly errcode: string,
    message: string,
  ) {
    super(message);
  }
}

/** The homeserver rate-limited the call. */
export class RateLimitedError extends Error {
  constructor(
    readonly retryAfterMs: number | null,
    message: string,
  ) {
    super(message);
  }
}

/** The homeserver's UIA challenge, carried as a result. */
export class AuthRequiredError extends Error {
  constructor(readonly challenge: UiaChallenge) {
    super(challenge.message);
  }
}

export const ErrorInterface = builder.interfaceRef<Error>("Error").implement({
  description: "An expected failure, returned as data inside a result union.",
  fields: (t) => ({
    message: t.exposeString("message", { description: "What went wrong, for people." }),
  }),
});

builder.objectType(DeviceNotFoundError, {
  name: "DeviceNotFound",
  description: "The homeserver has no device with this id for the user.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    deviceId: t.exposeID("deviceId", { description: "The device id that was asked for." }),
  }),
});

builder.objectType(ForbiddenError, {
  name: "Forbidden",
  description: "The homeserver refused the call for this caller (HTTP 403).",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    errcode: t.exposeString("errcode", { description: "The Matrix errcode, e.g. M_FORBIDDEN." }),
  }),
});

builder.objectType(RateLimitedError, {
  name: "RateLimited",
  description: "The homeserver is rate-limiting this caller (HTTP 429); try again later.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    retryAfterMs: t.exposeInt("retryAfterMs", {
      nullable: true,
      description: "How long to wait before retrying, when the homeserver said.",
    }),
  }),
});

builder.objectType(UserNotFoundError, {
  name: "UserNotFound",
  description: "The homeserver has no such local user (admin API answered 404).",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    userId: t.exposeString("userId", { description: "The user id that was asked for." }),
  }),
});

builder.objectType(ManagedByAccountServiceError, {
  name: "ManagedByAccountService",
  description:
    "The homeserver delegates auth to an OAuth 2.0 account service (e.g. MAS): the user ends " +
    "their own devices there. Nothing was deleted; open `accountManagementUrl`.",
  fields: (t) => ({
    accountManagementUrl: t.exposeString("accountManagementUrl", {
      description:
        "Deep link into the account service, e.g. " +
        "`{account_management_uri}?action=org.matrix.device_delete&device_id=…`.",
    }),
    action: t.exposeString("action", {
      description:
        "The account management action linked, e.g. org.matrix.device_delete (or " +
        "org.matrix.session_end where only the unstable action is advertised).",
    }),
  }),
});

const AuthFlowRef = builder.objectRef<AuthFlow>("AuthFlow").implement({
  description: "One way to complete user-interactive auth: its stages, in order.",
  fields: (t) => ({
    stages: t.exposeStringList("stages", {
      description: "Stage types, e.g. m.login.password, to complete in this order.",
    }),
  }),
});

interface AuthErrorValue {
  errcode: string;
  message: string;
}

const AuthErrorRef = builder.objectRef<AuthErrorValue>("AuthError").implement({
  description: "Why the last auth attempt failed.",
  fields: (t) => ({
    errcode: t.exposeString("errcode", { description: "The Matrix errcode, e.g. M_FORBIDDEN." }),
    message: t.exposeString("message", { description: "The homeserver's explanation." }),
  }),
});

builder.objectType(AuthRequiredError, {
  name: "AuthRequired",
  description:
    "The homeserver wants user-interactive auth before it does this. Complete a stage of one of " +
    "the `flows` and send it back as `auth` (with this `session`).",
  fields: (t) => ({
    session: t.string({
      nullable: true,
      description: "The UIA session to send back in `AuthInput.session`.",
      resolve: (parent) => parent.challenge.session,
    }),
    flows: t.field({
      type: [AuthFlowRef],
      description: "The ways to authenticate; complete every stage of any one of them.",
      resolve: (parent) => parent.challenge.flows,
    }),
    completed: t.stringList({
      description: "Stages already completed in this session.",
      resolve: (parent) => parent.challenge.completed,
    }),
    params: t.field({
      type: "JSON",
      description: "Parameters per stage type, as the homeserver gave them (e.g. terms, captcha).",
      resolve: (parent) => parent.challenge.params,
    }),
    error: t.field({
      type: AuthErrorRef,
      nullable: true,
      description: "Why the last attempt failed (e.g. M_FORBIDDEN for a wrong password).",
      resolve: ({ challenge }) =>
        challenge.errcode === null
          ? null
          : { errcode: challenge.errcode, message: challenge.error ?? challenge.errcode },
    }),
    fallbackUrl: t.string({
      nullable: true,
      description:
        "The homeserver's fallback web page for a stage (for stages the client cannot render); " +
        "null without a session.",
      args: { stage: t.arg.string({ required: true, description: "A stage type." }) },
      resolve: async ({ challenge }, { stage }, ctx) => {
        if (challenge.session === null) return null;
        const base = await ctx.homeserver.clientBaseUrl();
        const session = encodeURIComponent(challenge.session);
        return `${base}/auth/${encodeURIComponent(stage)}/fallback/web?session=${session}`;
      },
    }),
  }),
});

/** The result errors every device mutation can return. */
export const MUTATION_ERRORS = [ForbiddenError, RateLimitedError];

/** What every deletion can also answer: a UIA challenge, an unknown user, an account-service link. */
export const DELETION_ERRORS = [
  AuthRequiredError,
  UserNotFoundError,
  ManagedByAccountServiceError,
  ...MUTATION_ERRORS,
];

function requestError(code: string, message: string, extensions: Record<string, unknown> = {}) {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

/**
 * The one mapping from homeserver errors to what the API shows: a result-union member for
 * expected outcomes, a GraphQL error with a stable code for whole-request failures, anything
 * else unchanged (and so masked).
 */
export function toResultError(error: unknown, deviceId?: string, userId?: string): unknown {
  if (error instanceof UiaChallenge) return new AuthRequiredError(error);
  if (error instanceof HomeserverUnreachable) {
    return requestError(GraphQLErrorCode.UpstreamUnavailable, "The homeserver is unreachable");
  }
  if (error instanceof HomeserverTimeout) {
    return requestError(GraphQLErrorCode.UpstreamTimeout, error.message);
  }
  if (!(error instanceof MatrixError)) return error;
  switch (error.status) {
    case 401:
      return requestError(
        GraphQLErrorCode.Unauthenticated,
        "The access token is missing or was not recognised by the homeserver",
        { errcode: error.errcode },
      );
    case 403:
      return new ForbiddenError(error.errcode, error.message);
    case 404:
      if (error.errcode !== "M_NOT_FOUND") return error;
      if (userId !== undefined) return new UserNotFoundError(userId);
      return deviceId !== undefined ? new DeviceNotFoundError(deviceId) : error;
    case 429:
      return new RateLimitedError(error.retryAfterMs, error.message);
    case 400:
    case 413:
      return requestError(GraphQLErrorCode.BadUserInput, error.message, { errcode: error.errcode });
    default:
      return error;
  }
}

/** Like `toResultError`, for fields without a result union: every outcome is a request error. */
export function toRequestError(error: unknown): unknown {
  const mapped = toResultError(error);
  if (mapped instanceof ForbiddenError) {
    return requestError(GraphQLErrorCode.Forbidden, mapped.message, { errcode: mapped.errcode });
  }
  if (mapped instanceof RateLimitedError) {
    return requestError(GraphQLErrorCode.RateLimited, mapped.message, {
      retryAfterMs: mapped.retryAfterMs,
    });
  }
  return mapped;
}

/** Awaits a homeserver call for a field without a result union, mapping its failure. */
export async function orRequestError<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw toRequestError(error);
  }
}
