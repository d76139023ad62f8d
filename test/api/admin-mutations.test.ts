import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { adminCalls, ROOT, ROOT_PASSWORD, seedAdmin } from "../support/admin-fixtures.ts";
import { ALICE, BOB, NOW, seedAlice, upstream } from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

let h: Harness;
let tokens: ReturnType<typeof seedAlice>;
let root: string;

beforeEach(async () => {
  h = await startHarness({ fake: { now: () => NOW }, gateway: { now: () => NOW } });
  tokens = seedAlice(h.fake);
  root = seedAdmin(h.fake);
  h.fake.clearLog();
});
afterEach(() => h.stop());

const RENAME = `mutation($id: ID!, $name: String!, $user: String) {
  renameDevice(deviceId: $id, displayName: $name, userId: $user) {
    __typename
    ... on DeviceRenamed { device { deviceId userId displayName lastSeenUserAgent isCurrent } }
    ... on DeviceNotFound { deviceId }
    ... on UserNotFound { userId }
    ... on Forbidden { errcode }
  }
}`;

const DELETE = `mutation($id: ID!, $user: String, $auth: AuthInput) {
  deleteDevice(deviceId: $id, userId: $user, auth: $auth) {
    __typename
    ... on DeviceDeleted { deviceId }
    ... on AuthRequired { session }
    ... on UserNotFound { userId }
    ... on Forbidden { errcode }
  }
}`;

const DELETE_MANY = `mutation($ids: [ID!]!, $user: String) {
  deleteDevices(deviceIds: $ids, userId: $user) {
    __typename
    ... on DevicesDeleted { deviceIds }
    ... on AuthRequired { session }
    ... on UserNotFound { userId }
    ... on Forbidden { errcode }
  }
}`;

const ids = (userId: string) => h.fake.devicesOf(userId).map((d) => d.deviceId);

describe("device mutations with userId (admin API)", () => {
  it("renames another user's device through the admin API", async () => {
    const { body } = await h.gql(RENAME, { id: "BOBPC", name: "Seized", user: BOB }, root);
    expect(body).toEqual({
      data: {
        renameDevice: {
          __typename: "DeviceRenamed",
          device: {
            deviceId: "BOBPC",
            userId: BOB,
            displayName: "Seized",
            lastSeenUserAgent: null,
            isCurrent: false,
          },
        },
      },
    });
    expect(adminCalls(h.fake).map((r) => `${r.method} ${r.path}`)).toEqual([
      "PUT /_synapse/admin/v2/users/%40bob%3Alocalhost/devices/BOBPC",
      "GET /_synapse/admin/v2/users/%40bob%3Alocalhost/devices",
    ]);
    expect(upstream(h.fake, "PUT", "/devices/BOBPC")[0]?.body).toEqual({ display_name: "Seized" });
  });

  it("deletes another user's devices without UIA, one and several", async () => {
    const one = await h.gql(DELETE, { id: "LAPTOP", user: ALICE }, root);
    expect(one.body).toEqual({
      data: { deleteDevice: { __typename: "DeviceDeleted", deviceId: "LAPTOP" } },
    });
    const many = await h.gql(DELETE_MANY, { ids: ["UNUSED", "a/b"], user: ALICE }, root);
    expect(many.body).toEqual({
      data: { deleteDevices: { __typename: "DevicesDeleted", deviceIds: ["UNUSED", "a/b"] } },
    });
    expect(ids(ALICE)).toEqual(["../../x", "PHONE"]);
    expect(adminCalls(h.fake).map((r) => `${r.method} ${r.path}`)).toEqual([
      "DELETE /_synapse/admin/v2/users/%40alice%3Alocalhost/devices/LAPTOP",
      "POST /_synapse/admin/v2/users/%40alice%3Alocalhost/delete_devices",
    ]);
    expect(adminCalls(h.fake, "delete_devices")[0]?.body).toEqual({ devices: ["UNUSED", "a/b"] });
    // No UIA anywhere: no client-server deletion was attempted.
    expect(h.fake.requests.filter((r) => r.path.startsWith("/_matrix/client/v3/de"))).toEqual([]);
  });

  it("still needs UIA for an admin's own devices, with or without their own userId", async () => {
    for (const user of [ROOT, null]) {
      h.fake.addDevice(ROOT, { deviceId: `OLD-${user ?? "none"}` });
      const { body } = await h.gql(DELETE, { id: `OLD-${user ?? "none"}`, user }, root);
      expect(body.data.deleteDevice).toEqual({
        __typename: "AuthRequired",
        session: expect.any(String),
      });
    }
    expect(adminCalls(h.fake)).toEqual([]);
    const session = (await h.gql(DELETE, { id: "OLD-none" }, root)).body.data.deleteDevice.session;
    const done = await h.gql(
      DELETE,
      { id: "OLD-none", auth: { type: "m.login.password", session, password: ROOT_PASSWORD } },
      root,
    );
    expect(done.body.data.deleteDevice).toEqual({
      __typename: "DeviceDeleted",
      deviceId: "OLD-none",
    });
    expect(ids(ROOT)).toEqual(["OLD-@root:localhost", "ROOTPC"]);
  });

  it("gives a non-admin Forbidden on every admin mutation, after one refused call each", async () => {
    const cases = [
      [RENAME, { id: "LAPTOP", name: "x", user: ALICE }, "renameDevice"],
      [DELETE, { id: "LAPTOP", user: ALICE }, "deleteDevice"],
      [DELETE_MANY, { ids: ["LAPTOP", "PHONE"], user: ALICE }, "deleteDevices"],
    ] as const;
    for (const [query, variables, field] of cases) {
      h.fake.clearLog();
      const { body } = await h.gql(query, variables, tokens.bob);
      expect(body).toEqual({
        data: { [field]: { __typename: "Forbidden", errcode: "M_FORBIDDEN" } },
      });
      expect(adminCalls(h.fake).map((r) => r.status)).toEqual([403]);
    }
    expect(ids(ALICE)).toEqual(["../../x", "LAPTOP", "PHONE", "UNUSED", "a/b"]);
    expect(h.fake.devicesOf(ALICE).find((d) => d.deviceId === "LAPTOP")?.displayName).toBe(
      "Laptop",
    );
  });

  it("answers UserNotFound for unknown users and DeviceNotFound for unknown devices", async () => {
    const ghost = "@ghost:localhost";
    expect((await h.gql(RENAME, { id: "X", name: "n", user: ghost }, root)).body.data).toEqual({
      renameDevice: { __typename: "UserNotFound", userId: ghost },
    });
    expect((await h.gql(RENAME, { id: "NOPE", name: "n", user: BOB }, root)).body.data).toEqual({
      renameDevice: { __typename: "DeviceNotFound", deviceId: "NOPE" },
    });
    expect((await h.gql(DELETE, { id: "X", user: ghost }, root)).body.data).toEqual({
      deleteDevice: { __typename: "UserNotFound", userId: ghost },
    });
    expect((await h.gql(DELETE_MANY, { ids: ["X"], user: ghost }, root)).body.data).toEqual({
      deleteDevices: { __typename: "UserNotFound", userId: ghost },
    });
  });

  it("refuses malformed and remote user ids with BAD_USER_INPUT, deleting nothing", async () => {
    for (const user of ["alice", "@alice", "alice:localhost", ""]) {
      const { body } = await h.gql(DELETE_MANY, { ids: ["LAPTOP"], user }, root);
      expect(body.errors[0].extensions).toEqual({ code: "BAD_USER_INPUT" });
    }
    expect(adminCalls(h.fake)).toEqual([]);
    const remote = await h.gql(DELETE, { id: "LAPTOP", user: "@alice:elsewhere.org" }, root);
    expect(remote.body.errors[0].extensions).toEqual({
      code: "BAD_USER_INPUT",
      errcode: "M_UNKNOWN",
    });
    expect(ids(ALICE)).toHaveLength(5);
  });
});
