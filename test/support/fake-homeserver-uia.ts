/**
 * User-Interactive Authentication as Synapse's `validate_user_via_ui_auth` does it for device
 * deletion: one flow `[m.login.password]`, sessions bound to the operation, failures merged
 * into the 401 challenge. Passwords and auth dicts are never echoed back.
 */
import {
  isJsonObject,
  type JsonObject,
  MatrixHttpError,
  matrixError,
} from "./fake-homeserver-http.ts";
import { type HomeserverState, randomString } from "./fake-homeserver-state.ts";

const PASSWORD = "m.login.password";
const DUMMY = "m.login.dummy";
const FLOWS: readonly (readonly string[])[] = [[PASSWORD]];

/** The operation a session was started for; a session cannot be replayed for another one. */
export interface UiaOperation {
  method: string;
  /** the raw request path, as Synapse compares `request.uri` */
  path: string;
  /** for bulk deletion: the device ids (compared as a set) */
  devices: readonly string[] | null;
}

interface UiaSession {
  id: string;
  operationKey: string;
  createdAt: number;
  /** completed stage -> the user id it authenticated (Synapse's `creds`) */
  completed: Map<string, string>;
}

function operationKey(op: UiaOperation): string {
  const devices = op.devices === null ? null : [...new Set(op.devices)].sort();
  return JSON.stringify([op.method, op.path, devices]);
}

export class UiaSessions {
  readonly #sessions = new Map<string, UiaSession>();
  readonly #state: HomeserverState;
  readonly #serverName: string;
  readonly #now: () => number;
  readonly #ttlMs: number;

  constructor(state: HomeserverState, serverName: string, now: () => number, ttlMs: number) {
    this.#state = state;
    this.#serverName = serverName;
    this.#now = now;
    this.#ttlMs = ttlMs;
  }

  /**
   * Returns when `auth` completes a flow for `requesterUserId` (the session is then consumed);
   * otherwise throws the answer: a 401 challenge, or a 400/403 error.
   */
  authenticate(requesterUserId: string, op: UiaOperation, auth: JsonObject | null): void {
    this.#expire();
    const sid = auth?.session;
    let session: UiaSession;
    if (typeof sid !== "string" || sid === "") {
      // Synapse starts a session whenever none is named, even when `auth` carries credentials.
      session = {
        id: randomString(24),
        operationKey: operationKey(op),
        createdAt: this.#now(),
        completed: new Map(),
      };
      this.#sessions.set(session.id, session);
    } else {
      const found = this.#sessions.get(sid);
      // Synapse says "Unknown session ID: <id>"; we do not echo caller-supplied ids.
      if (!found) throw matrixError(400, "M_UNKNOWN", "Unknown session ID");
      if (found.operationKey !== operationKey(op)) {
        throw matrixError(
          403,
          "M_FORBIDDEN",
          "Requested operation has changed during the UI authentication session.",
        );
      }
      session = found;
    }

    if (auth === null || Object.keys(auth).length === 0) throw this.#challenge(session, false);

    let failure: Record<string, unknown> = {};
    if ("type" in auth) {
      if (auth.type === DUMMY) {
        // Synapse always registers the dummy checker: the stage completes but satisfies no flow.
        session.completed.set(DUMMY, "");
      } else {
        const userId = this.#validateLogin(auth);
        if (userId === null)
          failure = { errcode: "M_FORBIDDEN", error: "Invalid username or password" };
        else session.completed.set(String(auth.type), userId);
      }
    }

    const done = FLOWS.some((flow) => flow.every((stage) => session.completed.has(stage)));
    if (!done) throw this.#challenge(session, true, failure);
    // The authenticated user must be the token's user (Synapse: "Invalid auth").
    if (session.completed.get(PASSWORD) !== requesterUserId) {
      throw matrixError(403, "M_FORBIDDEN", "Invalid auth");
    }
    this.#sessions.delete(session.id);
  }

  /** Synapse's `validate_login` for re-authentication: the user id, or null for bad credentials. */
  #validateLogin(auth: JsonObject): string | null {
    const type = auth.type;
    if (typeof type !== "string") throw matrixError(400, "M_INVALID_PARAM", "Bad parameter: type");
    if (type === PASSWORD && typeof auth.password !== "string") {
      throw matrixError(400, "M_INVALID_PARAM", "Bad parameter: password");
    }
    const identifier = this.#identifier(auth);
    if (identifier.type !== "m.id.user") {
      // m.id.thirdparty / m.id.phone need 3PIDs, which this server has none of.
      if (identifier.type === "m.id.thirdparty" || identifier.type === "m.id.phone") return null;
      throw matrixError(400, "M_UNKNOWN", "Unknown login identifier type");
    }
    const user = identifier.user;
    if (typeof user !== "string" || user === "") {
      throw matrixError(400, "M_UNKNOWN", "User identifier is missing 'user' key");
    }
    // Synapse names the type here; we do not echo caller-supplied strings.
    if (type !== PASSWORD) throw matrixError(400, "M_UNKNOWN", "Unknown login type");
    const qualified = user.startsWith("@") ? user : `@${user}:${this.#serverName}`;
    const check = this.#state.checkPassword(qualified, String(auth.password));
    if (check.kind === "deactivated") {
      throw matrixError(403, "M_USER_DEACTIVATED", "This account has been deactivated");
    }
    return check.kind === "ok" ? check.userId : null;
  }

  /** `identifier`, or the deprecated top-level `user` / `medium`+`address` mapped onto one. */
  #identifier(auth: JsonObject): JsonObject {
    if ("identifier" in auth) {
      const identifier = auth.identifier;
      if (!isJsonObject(identifier) || !("type" in identifier)) {
        throw matrixError(400, "M_MISSING_PARAM", "'identifier' dict has no key 'type'");
      }
      return identifier;
    }
    if ("user" in auth) return { type: "m.id.user", user: auth.user };
    if ("medium" in auth && "address" in auth) return { type: "m.id.thirdparty" };
    throw matrixError(400, "M_INVALID_PARAM", "Invalid login submission");
  }

  #challenge(
    session: UiaSession,
    withCompleted: boolean,
    failure: Record<string, unknown> = {},
  ): MatrixHttpError {
    const body: Record<string, unknown> = {
      session: session.id,
      flows: FLOWS.map((stages) => ({ stages: [...stages] })),
      params: {},
    };
    if (withCompleted) body.completed = [...session.completed.keys()];
    return new MatrixHttpError(401, { ...body, ...failure });
  }

  #expire(): void {
    const cutoff = this.#now() - this.#ttlMs;
    for (const [id, session] of this.#sessions) {
      if (session.createdAt <= cutoff) this.#sessions.delete(id);
    }
  }
}
