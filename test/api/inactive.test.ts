import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { adminCalls, DAY, ROOT, ROOT_PASSWORD, seedAdmin } from "../support/admin-fixtures.ts";
import { ALICE, NOW, seedAlice, upstream } from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

let h: Harness;
let tokens: ReturnType<typeof seedAlice>;
let root: string;
/** The gateway's clock; a test moves it ahead of the homeserver's to age every device. */
let gatewayNow = NOW;

beforeEach(async () => {
  gatewayNow = NOW;
  h = await startHarness({ fake: { now: () => NOW }, gateway: { now: () => gatewayNow } });
  tokens = seedAlice(h.fake);
  root = seedAdmin(h.fake);
  // Alice: PHONE (1 min ago), RECENT (3 days), LAPTOP (2016), OLD (40 days), never-seen ones.
  h.fake.setDevice(ALICE, { deviceId: "RECENT", lastSeenTs: NOW - 3 * DAY });
  h.fake.setDevice(ALICE, { deviceId: "OLD", lastSeenTs: NOW - 40 * DAY });
  h.fake.clearLog();
});
afterEach(() => h.stop());

const CLEAN = `mutation($user: String!, $days: Int!, $keep: Int, $dry: Boolean, $auth: AuthInput) {
  deleteInactiveDevices(userId: $user, inactiveForDays: $days, keepLatest: $keep, dryRun: $dry, auth: $auth) {
    __typename
    ... on InactiveDevicesDeleted { dryRun deviceIds keptDeviceIds }
    ... on AuthRequired { session }
    ... on UserNotFound { userId }
    ... on Forbidden { errcode }
    ... on RateLimited { retryAfterMs }
  }
}`;

const ids = (userId: string) => h.fake.devicesOf(userId).map((d) => d.deviceId);
const ALL_ALICE = ["../../x", "LAPTOP", "OLD", "PHONE", "RECENT", "UNUSED", "a/b"];

describe("deleteInactiveDevices", () => {
  it("is a dry run by default and changes nothing", async () => {
    const { body } = await h.gql(CLEAN, { user: ALICE, days: 30 }, root);
    expect(body).toEqual({
      data: {
        deleteInactiveDevices: {
          __typename: "InactiveDevicesDeleted",
          dryRun: true,
          deviceIds: ["OLD", "LAPTOP", "../../x", "UNUSED", "a/b"],
          keptDeviceIds: ["PHONE", "RECENT"],
        },
      },
    });
    expect(ids(ALICE)).toEqual(ALL_ALICE);
    expect(adminCalls(h.fake).map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /_synapse/admin/v2/users/%40alice%3Alocalhost/devices",
    ]);
  });

  it("deletes exactly the listed devices in the real run", async () => {
    const dry = await h.gql(CLEAN, { user: ALICE, days: 30, keep: 1 }, root);
    const real = await h.gql(CLEAN, { user: ALICE, days: 30, keep: 1, dry: false }, root);
    expect(real.body.data.deleteInactiveDevices).toEqual({
      ...dry.body.data.deleteInactiveDevices,
      dryRun: false,
    });
    expect(ids(ALICE)).toEqual(["PHONE", "RECENT"]);
    expect(adminCalls(h.fake, "delete_devices").map((r) => r.body)).toEqual([
      { devices: ["OLD", "LAPTOP", "../../x", "UNUSED", "a/b"] },
    ]);
  });

  it("honours keepLatest: the most recently seen stay even when inactive", async () => {
    const { body } = await h.gql(CLEAN, { user: ALICE, days: 0, keep: 3, dry: false }, root);
    expect(body.data.deleteInactiveDevices).toEqual({
      __typename: "InactiveDevicesDeleted",
      dryRun: false,
      deviceIds: ["LAPTOP", "../../x", "UNUSED", "a/b"],
      keptDeviceIds: ["PHONE", "RECENT", "OLD"],
    });
    expect(ids(ALICE)).toEqual(["OLD", "PHONE", "RECENT"]);
  });

  it("never deletes the caller's current device, and needs UIA for the caller's own", async () => {
    h.fake.setDevice(ROOT, { deviceId: "ROOTPC", lastSeenTs: NOW - 90 * DAY });
    h.fake.setDevice(ROOT, { deviceId: "SPARE", lastSeenTs: NOW - 60 * DAY });
    h.fake.setDevice(ROOT, { deviceId: "ANCIENT", lastSeenTs: NOW - 900 * DAY });
    const dry = await h.gql(CLEAN, { user: ROOT, days: 30, keep: 0 }, root);
    // Authenticating touched ROOTPC (seen now), so it is active anyway — and it is current.
    expect(dry.body.data.deleteInactiveDevices).toEqual({
      __typename: "InactiveDevicesDeleted",
      dryRun: true,
      deviceIds: ["SPARE", "ANCIENT"],
      keptDeviceIds: ["ROOTPC"],
    });
    const first = await h.gql(CLEAN, { user: ROOT, days: 30, keep: 0, dry: false }, root);
    expect(first.body.data.deleteInactiveDevices).toEqual({
      __typename: "AuthRequired",
      session: expect.any(String),
    });
    expect(ids(ROOT)).toEqual(["ANCIENT", "ROOTPC", "SPARE"]);
    const session = first.body.data.deleteInactiveDevices.session;
    const done = await h.gql(
      CLEAN,
      {
        user: ROOT,
        days: 30,
        keep: 0,
        dry: false,
        auth: { type: "m.login.password", session, password: ROOT_PASSWORD },
      },
      root,
    );
    expect(done.body.data.deleteInactiveDevices).toEqual({
      __typename: "InactiveDevicesDeleted",
      dryRun: false,
      deviceIds: ["SPARE", "ANCIENT"],
      keptDeviceIds: ["ROOTPC"],
    });
    expect(ids(ROOT)).toEqual(["ROOTPC"]);
    // The admin's own devices never went through the admin API.
    expect(adminCalls(h.fake)).toEqual([]);
  });

  it("keeps the current device even with keepLatest 0 and every device inactive", async () => {
    gatewayNow = NOW + 365 * DAY; // a year on, even the phone in use looks inactive
    const { body } = await h.gql(CLEAN, { user: ALICE, days: 30, keep: 0 }, tokens.alice);
    expect(body.data.deleteInactiveDevices).toEqual({
      __typename: "InactiveDevicesDeleted",
      dryRun: true,
      deviceIds: ["RECENT", "OLD", "LAPTOP", "../../x", "UNUSED", "a/b"],
      keptDeviceIds: ["PHONE"],
    });
    // A non-admin's own clean-up reads the client-server API, not the admin API.
    expect(upstream(h.fake, "GET", "/_matrix/client/v3/devices")).toHaveLength(1);
    expect(adminCalls(h.fake)).toEqual([]);
  });

  it("gives a non-admin Forbidden for another user, after one refused call", async () => {
    const { body } = await h.gql(CLEAN, { user: ALICE, days: 30, dry: false }, tokens.bob);
    expect(body.data.deleteInactiveDevices).toEqual({
      __typename: "Forbidden",
      errcode: "M_FORBIDDEN",
    });
    expect(adminCalls(h.fake).map((r) => `${r.method} ${r.status}`)).toEqual(["GET 403"]);
    expect(ids(ALICE)).toEqual(ALL_ALICE);
  });

  it("answers RateLimited when the admin API rate-limits, deleting nothing", async () => {
    h.fake.inject(
      { kind: "rateLimit", retryAfterMs: 2000, header: false },
      { match: "/_synapse/admin/v2/users/@alice:localhost/devices" },
    );
    const { body } = await h.gql(CLEAN, { user: ALICE, days: 30, dry: false }, root);
    expect(body.data.deleteInactiveDevices).toEqual({
      __typename: "RateLimited",
      retryAfterMs: 2000,
    });
    expect(ids(ALICE)).toEqual(ALL_ALICE);
  });

  it("answers UserNotFound for an unknown user and refuses bad input, deleting nothing", async () => {
    const ghost = await h.gql(CLEAN, { user: "@ghost:localhost", days: 1, dry: false }, root);
    expect(ghost.body.data.deleteInactiveDevices).toEqual({
      __typename: "UserNotFound",
      userId: "@ghost:localhost",
    });
    h.fake.clearLog();
    for (const variables of [
      { user: "alice", days: 1 },
      { user: ALICE, days: -1 },
      { user: ALICE, days: 40_000 },
      { user: ALICE, days: 1, keep: -1 },
    ]) {
      const { body } = await h.gql(CLEAN, { ...variables, dry: false }, root);
      expect(body.errors[0].extensions).toEqual({ code: "BAD_USER_INPUT" });
    }
    const remote = await h.gql(CLEAN, { user: "@a:remote.example", days: 1, dry: false }, root);
    expect(remote.body.errors[0].extensions).toEqual({
      code: "BAD_USER_INPUT",
      errcode: "M_UNKNOWN",
    });
    expect(adminCalls(h.fake).filter((r) => r.method !== "GET")).toEqual([]);
    expect(ids(ALICE)).toEqual(ALL_ALICE);
  });
});
