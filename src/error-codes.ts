/**
 * Every stable error code the gateway emits, in one place. Callers and tests match these codes,
 * never messages (the undici / fastify convention).
 */

/** `extensions.code` of whole-request GraphQL errors. */
export const GraphQLErrorCode = {
  Unauthenticated: "UNAUTHENTICATED",
  Forbidden: "FORBIDDEN",
  RateLimited: "RATE_LIMITED",
  UpstreamUnavailable: "UPSTREAM_UNAVAILABLE",
  UpstreamTimeout: "UPSTREAM_TIMEOUT",
  BadUserInput: "BAD_USER_INPUT",
} as const;
export type GraphQLErrorCode = (typeof GraphQLErrorCode)[keyof typeof GraphQLErrorCode];

/** `code` of the homeserver client's typed errors (see homeserver/errors.ts). */
export const HomeserverErrorCode = {
  Matrix: "HS_MATRIX_ERROR",
  UiaRequired: "HS_UIA_REQUIRED",
  Unreachable: "HS_UNREACHABLE",
  Timeout: "HS_TIMEOUT",
  BadResponse: "HS_BAD_RESPONSE",
} as const;
export type HomeserverErrorCode = (typeof HomeserverErrorCode)[keyof typeof HomeserverErrorCode];
