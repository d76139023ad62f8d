/**
 * Client-server API routes of the fake homeserver: versions, whoami, the device management
 * module (with UIA for deletion) and the OAuth 2.0 auth metadata of delegated servers.
 * @see https://spec.matrix.org/latest/client-server-api/#device-management
 */
import {
  isJsonObject,
  type JsonObject,
  MatrixHttpError,
  matrixError,
  ok,
  parseJsonObject,
  type Reply,
  type Route,
  type RouteContext,
  unrecognized,
} from "./fake-homeserver-http.ts";
import {
  clientDeviceJson,
  type DeviceJsonShape,
  type HomeserverState,
  type TokenOwner,
} from "./fake-homeserver-state.ts";
import type { UiaSessions } from "./fake-homeserver-uia.ts";

/** What the routes need of the server they run in. */
export interface HomeserverContext {
  readonly state: HomeserverState;
  readonly uia: UiaSessions;
  readonly url: string;
  readonly serverName: string;
  readonly versions: readonly string[];
  readonly displayNameMaxLength: number;
  readonly deviceJson: DeviceJsonShape;
  /** the account management URL when auth is delegated to an OAuth server, else null */
  accountManagementUri(): string | null;
}

/** Synapse's `get_access_token_from_request` + token lookup; records the use on the device. */
export function authenticate(hs: HomeserverContext, ctx: RouteContext): TokenOwner {
  const fromQuery = ctx.query.getAll("access_token");
  let token: string;
  if (ctx.authorization.length > 0) {
    if (fromQuery.length > 0) {
      throw matrixError(
        401,
        "M_MISSING_TOKEN",
        "Mixing Authorization headers and access_token query parameters.",
      );
    }
    if (ctx.authorization.length > 1) {
      throw matrixError(401, "M_MISSING_TOKEN", "Too many Authorization headers.");
    }
    const parts = (ctx.authorization[0] ?? "").split(" ");
    if (parts.length !== 2 || parts[0] !== "Bearer") {
      throw matrixError(401, "M_MISSING_TOKEN", "Invalid Authorization header.");
    }
    token = parts[1] ?? "";
  } else {
    const first = fromQuery[0];
    if (first === undefined) throw matrixError(401, "M_MISSING_TOKEN", "Missing access token.");
    token = first;
  }
  const owner = hs.state.ownerOf(token);
  if (!owner) {
    throw matrixError(401, "M_UNKNOWN_TOKEN", "Invalid access token passed.", {
      soft_logout: false,
    });
  }
  hs.state.touch(owner, ctx.remoteAddress, ctx.userAgent);
  return owner;
}

/** The display name rule of Synapse's device handler (length in code points, like Python). */
export function checkDisplayName(hs: HomeserverContext, body: JsonObject): string | null {
  const name = body.display_name;
  if (name === undefined || name === null) return null;
  if (typeof name !== "string") throw matrixError(400, "M_BAD_JSON", "display_name: str expected");
  if ([...name].length > hs.displayNameMaxLength) {
    throw matrixError(
      400,
      "M_TOO_LARGE",
      `Device display name is too long (max ${hs.displayNameMaxLength})`,
    );
  }
  return name;
}

/** Deletion bodies: a non-JSON body counts as `{}` (Synapse's fallback for old clients). */
function deletionBody(text: string): JsonObject {
  let body: JsonObject;
  try {
    body = parseJsonObject(text);
  } catch (error) {
    if (error instanceof MatrixHttpError && error.body.errcode === "M_NOT_JSON") body = {};
    else throw error;
  }
  const auth = body.auth;
  if (auth !== undefined && auth !== null) {
    if (!isJsonObject(auth)) throw matrixError(400, "M_BAD_JSON", "auth: value is not a dict");
    for (const key of ["type", "session"]) {
      if (key in auth && typeof auth[key] !== "string" && auth[key] !== null) {
        throw matrixError(400, "M_BAD_JSON", `auth.${key}: str expected`);
      }
    }
  }
  return body;
}

function authOf(body: JsonObject): JsonObject | null {
  return isJsonObject(body.auth) ? body.auth : null;
}

function authMetadata(hs: HomeserverContext): Reply {
  const accountManagementUri = hs.accountManagementUri();
  if (accountManagementUri === null) throw unrecognized();
  const issuer = `${hs.url}/`;
  return ok({
    issuer,
    authorization_endpoint: `${issuer}authorize`,
    token_endpoint: `${issuer}oauth2/token`,
    registration_endpoint: `${issuer}oauth2/registration`,
    revocation_endpoint: `${issuer}oauth2/revoke`,
    jwks_uri: `${issuer}oauth2/keys.json`,
    response_types_supported: ["code"],
    response_modes_supported: ["query", "fragment"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    prompt_values_supported: ["create"],
    account_management_uri: accountManagementUri,
    account_management_actions_supported: [
      "org.matrix.profile",
      "org.matrix.devices_list",
      "org.matrix.device_view",
      "org.matrix.device_delete",
      "org.matrix.sessions_list",
      "org.matrix.session_view",
      "org.matrix.session_end",
      "org.matrix.account_deactivate",
      "org.matrix.cross_signing_reset",
    ],
  });
}

function deviceRoutes(hs: HomeserverContext, prefix: string): Route[] {
  const delegated = () => hs.accountManagementUri() !== null;
  return [
    {
      path: `${prefix}/account/whoami`,
      methods: {
        GET: (ctx) => {
          const owner = authenticate(hs, ctx);
          return ok({ user_id: owner.userId, is_guest: false, device_id: owner.deviceId });
        },
      },
    },
    {
      path: `${prefix}/devices`,
      methods: {
        GET: (ctx) => {
          const { userId } = authenticate(hs, ctx);
          const devices = hs.state.devicesOf(userId);
          return ok({ devices: devices.map((d) => clientDeviceJson(userId, d, hs.deviceJson)) });
        },
      },
    },
    {
      path: `${prefix}/devices/{deviceId}`,
      methods: {
        GET: (ctx) => {
          const { userId } = authenticate(hs, ctx);
          const device = hs.state.getDevice(userId, ctx.params.deviceId ?? "");
          if (!device) throw matrixError(404, "M_NOT_FOUND", "No device found");
          return ok(clientDeviceJson(userId, device, hs.deviceJson));
        },
        PUT: (ctx) => {
          const { userId } = authenticate(hs, ctx);
          const deviceId = ctx.params.deviceId ?? "";
          const name = checkDisplayName(hs, parseJsonObject(ctx.bodyText));
          if (!hs.state.getDevice(userId, deviceId)) {
            throw matrixError(404, "M_NOT_FOUND", "Not found");
          }
          if (name !== null) hs.state.renameDevice(userId, deviceId, name);
          return ok({});
        },
        DELETE: (ctx) => {
          const { userId } = authenticate(hs, ctx);
          const body = deletionBody(ctx.bodyText);
          // Under OAuth delegation (MAS) Synapse refuses this after authenticating the token.
          if (delegated()) throw unrecognized();
          const deviceId = ctx.params.deviceId ?? "";
          const op = { method: ctx.method, path: ctx.rawPath, devices: null };
          hs.uia.authenticate(userId, op, authOf(body));
          hs.state.deleteDevices(userId, [deviceId]);
          return ok({});
        },
      },
    },
    {
      path: `${prefix}/delete_devices`,
      // Synapse does not register this servlet at all when auth is delegated.
      available: () => !delegated(),
      methods: {
        POST: (ctx) => {
          const { userId } = authenticate(hs, ctx);
          const body = deletionBody(ctx.bodyText);
          const devices = body.devices;
          if (!Array.isArray(devices) || !devices.every((d) => typeof d === "string")) {
            throw matrixError(400, "M_BAD_JSON", "devices: a list of strings is required");
          }
          const op = { method: ctx.method, path: ctx.rawPath, devices };
          hs.uia.authenticate(userId, op, authOf(body));
          hs.state.deleteDevices(userId, devices);
          return ok({});
        },
      },
    },
  ];
}

export function clientRoutes(hs: HomeserverContext): Route[] {
  const metadata = { GET: () => authMetadata(hs) };
  // Synapse registers the metadata servlets only when auth is delegated.
  const delegated = () => hs.accountManagementUri() !== null;
  return [
    {
      path: "/_matrix/client/versions",
      methods: { GET: () => ok({ versions: [...hs.versions], unstable_features: {} }) },
    },
    { path: "/_matrix/client/v1/auth_metadata", methods: metadata, available: delegated },
    {
      path: "/_matrix/client/unstable/org.matrix.msc2965/auth_metadata",
      methods: metadata,
      available: delegated,
    },
    ...deviceRoutes(hs, "/_matrix/client/r0"),
    ...deviceRoutes(hs, "/_matrix/client/v3"),
  ];
}
