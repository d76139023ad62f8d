import { HomeserverErrorCode } from "../error-codes.ts";

/**
 * The homeserver client's error hierarchy: every non-2xx answer or transport failure becomes one
 * of these, so nothing above the client looks at HTTP (after matrix-js-sdk's http-api/errors.ts).
 */
export abstract class HomeserverError extends Error {
  abstract readonly code: HomeserverErrorCode;
}

/** A Matrix `{errcode, error}` answer with a non-2xx status. */
export class MatrixError extends HomeserverError {
  override readonly code = HomeserverErrorCode.Matrix;
  override readonly name = "MatrixError";
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    /** From the `Retry-After` header first, else the body's `retry_after_ms`. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/** One flow of a UIA challenge: the stages to complete, in order. */
export interface AuthFlow {
  stages: string[];
}

/**
 * A 401 carrying `flows`: the homeserver wants (more) user-interactive auth. `errcode`/`error`
 * say why the last attempt failed, when it did (a wrong password, for instance).
 * @see https://spec.matrix.org/latest/client-server-api/#user-interactive-authentication-api
 */
export class UiaChallenge extends HomeserverError {
  override readonly code = HomeserverErrorCode.UiaRequired;
  override readonly name = "UiaChallenge";
  constructor(
    readonly session: string | null,
    readonly flows: AuthFlow[],
    readonly completed: string[],
    readonly params: Record<string, unknown>,
    readonly errcode: string | null,
    readonly error: string | null,
  ) {
    super("The homeserver requires user-interactive authentication");
  }
}

/** The homeserver could not be reached (refused, reset, DNS). */
export class HomeserverUnreachable extends HomeserverError {
  override readonly code = HomeserverErrorCode.Unreachable;
  override readonly name = "HomeserverUnreachable";
  constructor(override readonly cause: unknown) {
    super("The homeserver is unreachable");
  }
}

/**
 * The circuit breaker is open: the homeserver kept failing, so the call was not even tried.
 * A kind of unreachable (UPSTREAM_UNAVAILABLE at the API).
 */
export class HomeserverCircuitOpen extends HomeserverUnreachable {
  constructor() {
    super(new Error("circuit breaker open"));
  }
}

/** The homeserver did not answer within the configured deadline. */
export class HomeserverTimeout extends HomeserverError {
  override readonly code = HomeserverErrorCode.Timeout;
  override readonly name = "HomeserverTimeout";
  constructor(readonly timeoutMs: number) {
    super(`The homeserver did not answer within ${timeoutMs} ms`);
  }
}

/** A 2xx answer whose body is not the JSON the spec promises. */
export class HomeserverBadResponse extends HomeserverError {
  override readonly code = HomeserverErrorCode.BadResponse;
  override readonly name = "HomeserverBadResponse";
}
