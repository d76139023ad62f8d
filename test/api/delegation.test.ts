import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { adminCalls, seedAdmin } from "../support/admin-fixtures.ts";
import { ALICE, NOW, seedAlice } from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

const ACCOUNT = "https://account.example.org/account/";
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

const HOMESERVER = "{ homeserver { versions authDelegated accountManagementUrl } }";
const DELETE = `mutation($id: ID!, $user: String) {
  deleteDevice(deviceId: $id, userId: $user) {
    __typename
    ... on ManagedByAccountService { accountManagementUrl action }
    ... on DeviceDeleted { deviceId }
    ... on AuthRequired { session }
  }
}`;
const DELETE_MANY = `mutation($ids: [ID!]!) {
  deleteDevices(deviceIds: $ids) {
    __typename
    ... on ManagedByAccountService { accountManagementUrl action }
  }
}`;
const metadataCalls = () => h.fake.requests.filter((r) => r.path.endsWith("auth_metadata"));
const deletions = () =>
  h.fake.requests.filter(
    (r) => r.method === "DELETE" || (r.method === "POST" && r.path.endsWith("delete_devices")),
  );

describe("Query.homeserver", () => {
  it("says when auth is not delegated, discovering once", async () => {
    for (let i = 0; i < 2; i++) {
      expect((await h.gql(HOMESERVER)).body).toEqual({
        data: {
          homeserver: {
            versions: ["r0.6.1", "v1.1", "v1.11"],
            authDelegated: false,
            accountManagementUrl: null,
          },
        },
      });
    }
    // Stable path, then the MSC2965 unstable one, both 404 M_UNRECOGNIZED; then cached.
    expect(metadataCalls().map((r) => [r.path, r.status])).toEqual([
      ["/_matrix/client/v1/auth_metadata", 404],
      ["/_matrix/client/unstable/org.matrix.msc2965/auth_metadata", 404],
    ]);
  });

  it("exposes the account management URL of a delegated homeserver", async () => {
    h.fake.setAuthDelegated(ACCOUNT);
    expect((await h.gql(HOMESERVER)).body.data.homeserver).toEqual({
      versions: ["r0.6.1", "v1.1", "v1.11"],
      authDelegated: true,
      accountManagementUrl: ACCOUNT,
    });
  });
});

describe("own-device deletion on an OAuth-delegated homeserver", () => {
  it("answers with the account service's deep link and sends no DELETE", async () => {
    h.fake.setAuthDelegated(ACCOUNT);
    const one = await h.gql(DELETE, { id: "a/b" }, tokens.alice);
    expect(one.body).toEqual({
      data: {
        deleteDevice: {
          __typename: "ManagedByAccountService",
          accountManagementUrl: `${ACCOUNT}?action=org.matrix.device_delete&device_id=a%2Fb`,
          action: "org.matrix.device_delete",
        },
      },
    });
    const many = await h.gql(DELETE_MANY, { ids: ["LAPTOP", "UNUSED"] }, tokens.alice);
    expect(many.body.data.deleteDevices).toEqual({
      __typename: "ManagedByAccountService",
      accountManagementUrl: `${ACCOUNT}?action=org.matrix.devices_list`,
      action: "org.matrix.devices_list",
    });
    expect(deletions()).toEqual([]);
    expect(h.fake.devicesOf(ALICE)).toHaveLength(5);
    expect(metadataCalls()).toHaveLength(1);
  });

  it("notices delegation that began after discovery (404 M_UNRECOGNIZED)", async () => {
    await h.gql(HOMESERVER); // cached: not delegated
    h.fake.setAuthDelegated(ACCOUNT);
    const { body } = await h.gql(DELETE, { id: "LAPTOP" }, tokens.alice);
    expect(body.data.deleteDevice).toEqual({
      __typename: "ManagedByAccountService",
      accountManagementUrl: `${ACCOUNT}?action=org.matrix.device_delete&device_id=LAPTOP`,
      action: "org.matrix.device_delete",
    });
    expect(deletions().map((r) => r.status)).toEqual([404]);
    expect(h.fake.devicesOf(ALICE)).toHaveLength(5);
  });

  it("still lets an admin delete another user's device through the admin API", async () => {
    h.fake.setAuthDelegated(ACCOUNT);
    const { body } = await h.gql(DELETE, { id: "LAPTOP", user: ALICE }, root);
    expect(body.data.deleteDevice).toEqual({ __typename: "DeviceDeleted", deviceId: "LAPTOP" });
    expect(adminCalls(h.fake).map((r) => `${r.method} ${r.status}`)).toEqual(["DELETE 200"]);
  });
});
