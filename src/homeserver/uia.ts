import type { AuthDict } from "./client-server.ts";
import { MatrixError, UiaChallenge } from "./errors.ts";

/** What a GraphQL caller sends as `AuthInput`. */
export interface AuthInputValue {
  type: string;
  session?: string | null;
  password?: string | null;
  user?: string | null;
  extra?: unknown;
}

const PASSWORD = "m.login.password";

/**
 * Builds the Matrix auth dict for one UIA stage. `m.login.password` identifies the user with an
 * `m.id.user` identifier (the viewer unless `user` says otherwise); every other stage type gets
 * `session` and `extra` as given.
 * @see https://spec.matrix.org/latest/client-server-api/#password-based
 */
export function toAuthDict(input: AuthInputValue, viewerUserId: string): AuthDict {
  const extra = typeof input.extra === "object" && input.extra !== null ? input.extra : {};
  const dict: AuthDict = { ...extra, type: input.type };
  if (input.session) dict.session = input.session;
  if (input.type === PASSWORD) {
    dict.identifier = { type: "m.id.user", user: input.user ?? viewerUserId };
    dict.password = input.password ?? "";
  } else if (input.user) {
    dict.user = input.user;
  }
  return dict;
}

/** A stale or unknown UIA session: homeservers answer 400 (Synapse: M_UNKNOWN "Unknown session ID"). */
function isUnknownSession(error: unknown, auth: AuthDict | null): error is MatrixError {
  return (
    auth?.session !== undefined &&
    error instanceof MatrixError &&
    error.status === 400 &&
    (error.errcode === "M_UNKNOWN" || error.errcode === "M_NOT_FOUND")
  );
}

/**
 * Runs a UIA-protected call. When the session it names is stale or unknown, asks again without
 * auth so the caller gets a fresh challenge (new session) that says why the old one failed.
 */
export async function callWithUia(
  call: (auth: AuthDict | null) => Promise<void>,
  auth: AuthDict | null,
): Promise<void> {
  try {
    await call(auth);
  } catch (error) {
    if (!isUnknownSession(error, auth)) throw error;
    try {
      await call(null);
    } catch (fresh) {
      if (fresh instanceof UiaChallenge) {
        throw new UiaChallenge(
          fresh.session,
          fresh.flows,
          fresh.completed,
          fresh.params,
          error.errcode,
          error.message,
        );
      }
      throw fresh;
    }
  }
}
