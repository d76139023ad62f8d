import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { MatrixDevice } from "../../src/homeserver/client-server.ts";
import { adminCalls, DAY, ROOT, seedAdmin } from "../support/admin-fixtures.ts";
import { ALICE, BOB, NOW, seedAlice } from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

let h: Harness;
let tokens: ReturnType<typeof seedAlice>;
let root: string;
const sightings: { userId: string; devices: MatrixDevice[]; complete: boolean }[] = [];

beforeAll(async () => {
  h = await startHarness({
    fake: { now: () => NOW },
    gateway: {
      now: () => NOW,
      sightings: {
        observe: (userId, devices, complete) => sightings.push({ userId, devices, complete }),
      },
    },
  });
  tokens = seedAlice(h.fake);
  root = seedAdmin(h.fake);
  h.fake.setDevice(BOB, {
    deviceId: "BOBPC",
    displayName: "Bob's PC",
    lastSeenIp: "10.0.0.9",
    lastSeenTs: NOW - 5_000,
    userAgent: "Element/1.11.80 (Windows)",
  });
});
afterAll(() => h.stop());
beforeEach(() => {
  h.fake.clearLog();
  sightings.length = 0;
});

const USER = `query($id: String!) {
  user(userId: $id) {
    userId displayName isAdmin deactivated
    devices { deviceId userId displayName lastSeenIp lastSeenTs lastSeenUserAgent isCurrent }
    device(deviceId: "BOBPC") { deviceId }
    missing: device(deviceId: "NOPE") { deviceId }
  }
}`;

describe("Query.user (admin API)", () => {
  it("shows another user's account and devices with user agents, in one devices GET", async () => {
    const { body } = await h.gql(USER, { id: BOB }, root);
    expect(body).toEqual({
      data: {
        user: {
          userId: BOB,
          displayName: null,
          isAdmin: false,
          deactivated: false,
          devices: [
            {
              deviceId: "BOBPC",
              userId: BOB,
              displayName: "Bob's PC",
              lastSeenIp: "10.0.0.9",
              lastSeenTs: NOW - 5_000,
              lastSeenUserAgent: "Element/1.11.80 (Windows)",
              isCurrent: false,
            },
          ],
          device: { deviceId: "BOBPC" },
          missing: null,
        },
      },
    });
    expect(adminCalls(h.fake).map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /_synapse/admin/v2/users/%40bob%3Alocalhost",
      "GET /_synapse/admin/v2/users/%40bob%3Alocalhost/devices",
    ]);
    // Reported to the last-seen cache with the owner and the user agent.
    expect(sightings).toEqual([
      {
        userId: BOB,
        complete: true,
        devices: [
          {
            deviceId: "BOBPC",
            displayName: "Bob's PC",
            lastSeenIp: "10.0.0.9",
            lastSeenTs: NOW - 5_000,
            lastSeenUserAgent: "Element/1.11.80 (Windows)",
          },
        ],
      },
    ]);
  });

  it("keeps lastSeenUserAgent null on the client-server views", async () => {
    const { body } = await h.gql("{ devices { deviceId lastSeenUserAgent } }", {}, tokens.bob);
    expect(body.data.devices).toEqual([{ deviceId: "BOBPC", lastSeenUserAgent: null }]);
  });

  it("answers null for an unknown user, BAD_USER_INPUT for remote and malformed ids", async () => {
    const unknown = await h.gql(USER, { id: "@nobody:localhost" }, root);
    expect(unknown.body).toEqual({ data: { user: null } });

    const remote = await h.gql(USER, { id: "@bob:elsewhere.org" }, root);
    expect(remote.body.data).toEqual({ user: null });
    expect(remote.body.errors.map((e: { extensions: unknown }) => e.extensions)).toEqual([
      { code: "BAD_USER_INPUT", errcode: "M_UNKNOWN" },
    ]);

    h.fake.clearLog();
    for (const id of [
      "bob",
      "@bob",
      "@:localhost",
      "@bob:",
      "@b ob:localhost",
      `@${"x".repeat(260)}:localhost`,
    ]) {
      const { body } = await h.gql(USER, { id }, root);
      expect(body.errors[0].extensions).toEqual({ code: "BAD_USER_INPUT" });
    }
    expect(adminCalls(h.fake)).toEqual([]);
  });

  it("is FORBIDDEN for a non-admin, after the one refused call", async () => {
    const { body } = await h.gql(USER, { id: ALICE }, tokens.bob);
    expect(body.data).toEqual({ user: null });
    expect(body.errors.map((e: { extensions: unknown }) => e.extensions)).toEqual([
      { code: "FORBIDDEN", errcode: "M_FORBIDDEN" },
    ]);
    expect(adminCalls(h.fake).map((r) => [r.method, r.status])).toEqual([["GET", 403]]);
  });

  it("sends a non-admin's request no admin call beyond the first refused one", async () => {
    const { body } = await h.gql(
      `{ a: user(userId: "${ALICE}") { userId } b: user(userId: "${BOB}") { userId }
         c: user(userId: "${ROOT}") { devices { deviceId } } }`,
      {},
      tokens.bob,
    );
    expect(body.data).toEqual({ a: null, b: null, c: null });
    expect(body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual([
      "FORBIDDEN",
      "FORBIDDEN",
      "FORBIDDEN",
    ]);
    expect(adminCalls(h.fake).map((r) => `${r.method} ${r.status}`)).toEqual(["GET 403"]);
  });
});

const USERS = `query($first: Int, $after: String, $search: String) {
  users(first: $first, after: $after, search: $search) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { userId displayName isAdmin deactivated } }
  }
}`;

describe("Query.users", () => {
  it("pages to the end with opaque cursors", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    const pages: boolean[] = [];
    for (;;) {
      const { body } = await h.gql(USERS, { first: 2, after }, root);
      const page = body.data.users;
      expect(page.totalCount).toBe(3);
      seen.push(...page.edges.map((e: { node: { userId: string } }) => e.node.userId));
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1).cursor);
      pages.push(page.pageInfo.hasNextPage);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual([ALICE, BOB, ROOT]);
    expect(pages).toEqual([true, false]);
    expect(adminCalls(h.fake, "/users").map((r) => r.query)).toEqual([
      "from=0&limit=2",
      "from=2&limit=2",
    ]);
  });

  it("searches, and answers the first page exactly", async () => {
    const { body } = await h.gql(USERS, { search: "roo" }, root);
    expect(body).toEqual({
      data: {
        users: {
          totalCount: 1,
          pageInfo: { hasNextPage: false, endCursor: body.data.users.edges[0].cursor },
          edges: [
            {
              cursor: expect.any(String),
              node: { userId: ROOT, displayName: "Root", isAdmin: true, deactivated: false },
            },
          ],
        },
      },
    });
    expect(adminCalls(h.fake).map((r) => r.query)).toEqual(["from=0&limit=50&name=roo"]);
  });

  it("refuses first over the cap, a negative first and forged cursors, without calling upstream", async () => {
    const forged = [
      "not a cursor",
      Buffer.from("users:abc").toString("base64url"),
      Buffer.from("audit:1").toString("base64url"),
      Buffer.from("users:-1").toString("base64url"),
    ];
    for (const variables of [
      { first: 101 },
      { first: -1 },
      ...forged.map((after) => ({ after })),
    ]) {
      const { body } = await h.gql(USERS, variables, root);
      expect(body.errors[0].extensions).toEqual({ code: "BAD_USER_INPUT" });
    }
    expect(adminCalls(h.fake)).toEqual([]);
  });

  it("is FORBIDDEN for a non-admin, and nothing is fetched per user", async () => {
    const { body } = await h.gql(
      "{ users { edges { node { devices { deviceId } } } } }",
      {},
      tokens.alice,
    );
    expect(body.errors.map((e: { extensions: unknown }) => e.extensions)).toEqual([
      { code: "FORBIDDEN", errcode: "M_FORBIDDEN" },
    ]);
    expect(adminCalls(h.fake).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      "GET /_synapse/admin/v2/users 403",
    ]);
  });
});

describe("User.inactiveDevices", () => {
  it("lists devices not seen for N days, never-seen ones included, from live data", async () => {
    const { body } = await h.gql(
      `{ user(userId: "${ALICE}") { inactiveDevices(inactiveForDays: 30) { deviceId lastSeenTs } } }`,
      {},
      root,
    );
    expect(body.data.user.inactiveDevices).toEqual([
      { deviceId: "../../x", lastSeenTs: null },
      { deviceId: "LAPTOP", lastSeenTs: 1_474_491_775_024 },
      { deviceId: "UNUSED", lastSeenTs: null },
      { deviceId: "a/b", lastSeenTs: null },
    ]);
    const bad = await h.gql(
      `{ user(userId: "${ALICE}") { inactiveDevices(inactiveForDays: -1) { deviceId } } }`,
      {},
      root,
    );
    expect(bad.body.errors[0].extensions).toEqual({ code: "BAD_USER_INPUT" });
    expect(NOW - 30 * DAY).toBeGreaterThan(1_474_491_775_024);
  });
});
