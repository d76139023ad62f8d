import { ROOT } from "./admin-fixtures.ts";
import { ALICE, ALICE_PASSWORD, BOB, type seedAlice } from "./fixtures.ts";
import type { Harness } from "./gateway-harness.ts";

/** The audit scenarios, shared by the in-memory store's tests and the real (Prisma) store's. */
export const RENAME = `mutation($id: ID!, $user: String) {
  renameDevice(deviceId: $id, displayName: "Renamed", userId: $user) { __typename }
}`;
export const DELETE = `mutation($id: ID!, $auth: AuthInput) {
  deleteDevice(deviceId: $id, auth: $auth) { __typename ... on AuthRequired { session } }
}`;
export const DELETE_MANY = `mutation($user: String) {
  deleteDevices(deviceIds: ["LAPTOP"], userId: $user) { __typename }
}`;
export const CLEAN = `mutation { deleteInactiveDevices(userId: "${ALICE}", inactiveForDays: 30) { __typename } }`;
export const LOG = `query($first: Int, $after: String, $user: String) {
  auditLog(first: $first, after: $after, userId: $user) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id actorUserId action targetUserId deviceIds outcome requestId at } }
  }
}`;

export const WRONG_PASSWORD = "wrong-pass-123";

/**
 * A mix of allowed and refused mutations by alice, bob, root and nobody; `between` runs after
 * each one (a store ordering by time needs the clock to move).
 */
export async function someMutations(
  h: Harness,
  tokens: ReturnType<typeof seedAlice>,
  root: string,
  between: () => void = () => {},
) {
  const run = async (query: string, variables: Record<string, unknown>, token: string | null) => {
    const answer = await h.gql(query, variables, token);
    between();
    return answer;
  };
  await run(RENAME, { id: "BOBPC", user: BOB }, root);
  await run(RENAME, { id: "LAPTOP", user: ALICE }, tokens.bob);
  const challenge = await run(DELETE, { id: "LAPTOP" }, tokens.alice);
  const session: string = challenge.body.data.deleteDevice.session;
  const wrong = { type: "m.login.password", session, password: WRONG_PASSWORD };
  await run(DELETE, { id: "LAPTOP", auth: wrong }, tokens.alice);
  const right = { type: "m.login.password", session, password: ALICE_PASSWORD };
  await run(DELETE, { id: "LAPTOP", auth: right }, tokens.alice);
  await run(DELETE_MANY, { user: "not-a-user-id" }, root);
  await run(DELETE_MANY, {}, null);
  await run(CLEAN, {}, root);
  const secrets = [
    tokens.alice,
    tokens.bob,
    tokens.laptop,
    root,
    ALICE_PASSWORD,
    WRONG_PASSWORD,
    session,
  ];
  return { session, secrets };
}

/** What `someMutations` records, oldest first (without id, requestId and time). */
export const RECORDED = [
  {
    actorUserId: ROOT,
    action: "renameDevice",
    targetUserId: BOB,
    deviceIds: ["BOBPC"],
    outcome: "DeviceRenamed",
  },
  {
    actorUserId: BOB,
    action: "renameDevice",
    targetUserId: ALICE,
    deviceIds: ["LAPTOP"],
    outcome: "Forbidden",
  },
  {
    actorUserId: ALICE,
    action: "deleteDevice",
    targetUserId: ALICE,
    deviceIds: ["LAPTOP"],
    outcome: "AuthRequired",
  },
  {
    actorUserId: ALICE,
    action: "deleteDevice",
    targetUserId: ALICE,
    deviceIds: ["LAPTOP"],
    outcome: "AuthRequired",
  },
  {
    actorUserId: ALICE,
    action: "deleteDevice",
    targetUserId: ALICE,
    deviceIds: ["LAPTOP"],
    outcome: "DeviceDeleted",
  },
  {
    actorUserId: ROOT,
    action: "deleteDevices",
    targetUserId: "not-a-user-id",
    deviceIds: ["LAPTOP"],
    outcome: "BAD_USER_INPUT",
  },
  {
    actorUserId: null,
    action: "deleteDevices",
    targetUserId: null,
    deviceIds: ["LAPTOP"],
    outcome: "UNAUTHENTICATED",
  },
  {
    actorUserId: ROOT,
    action: "deleteInactiveDevices",
    targetUserId: ALICE,
    deviceIds: [],
    outcome: "InactiveDevicesDeleted",
  },
];

/** Text in an audit column that would betray a secret or an auth dict. */
export const SECRET_SHAPED = /password|m\.login|"auth"/;
