import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { adminCalls, DAY, ROOT, seedAdmin } from "../support/admin-fixtures.ts";
import { DEVICES } from "../support/cache-fixtures.ts";
import {
  type CachedHarness,
  type Clock,
  clock,
  startCachedHarness,
} from "../support/cache-harness.ts";
import { AVAILABLE_KINDS, suiteDatabase } from "../support/databases.ts";
import { ALICE, BOB, NOW, seedAlice } from "../support/fixtures.ts";

const INACTIVE = `query($days: Int!, $user: String) {
  inactiveDevices(inactiveForDays: $days, userId: $user) {
    deviceId userId source isCurrent lastSeenTs firstObservedAt
  }
}`;
const ACROSS = `query($days: Int!, $first: Int, $after: String) {
  inactiveDevicesAcrossUsers(inactiveForDays: $days, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { userId deviceId source lastSeenTs firstObservedAt isCurrent } }
  }
}`;

const AT_NOW = new Date(NOW).toISOString();
const LATER = NOW + 31 * DAY;

function codes(body: { errors?: { extensions: unknown }[] }) {
  return body.errors?.map((e) => e.extensions);
}

describe.each(AVAILABLE_KINDS)("admin reads of the cache on %s", (kind) => {
  const db = suiteDatabase(kind);
  let h: CachedHarness;
  let time: Clock;
  let tokens: ReturnType<typeof seedAlice>;
  let root: string;

  /** Alice, Bob and root list their devices at NOW; then 31 days pass. */
  beforeEach(async () => {
    time = clock(NOW);
    h = await startCachedHarness(db.url, { now: time.now });
    await h.cache.prisma.deviceSnapshot.deleteMany();
    await h.cache.prisma.deviceSighting.deleteMany();
    tokens = seedAlice(h.fake);
    root = seedAdmin(h.fake);
    for (const token of [tokens.alice, tokens.bob, root]) await h.gql(DEVICES, {}, token);
    await h.cache.store.flush();
    time.set(LATER);
    h.fake.requests.length = 0;
  });
  afterEach(() => h.stop());

  describe("Query.inactiveDevices(userId)", () => {
    it("refreshes another user's devices through the admin API, then answers (admins)", async () => {
      h.fake.addDevice(BOB, { deviceId: "BOBNEW" }); // unknown to the cache until now
      const { body } = await h.gql(INACTIVE, { days: 30, user: BOB }, root);
      expect(body).toEqual({
        data: {
          inactiveDevices: [
            {
              deviceId: "BOBPC",
              userId: BOB,
              source: "LIVE",
              isCurrent: false,
              lastSeenTs: NOW,
              firstObservedAt: AT_NOW,
            },
          ],
        },
      });
      expect(adminCalls(h.fake).map((r) => `${r.method} ${r.path}`)).toEqual([
        "GET /_synapse/admin/v2/users/%40bob%3Alocalhost/devices",
      ]);
      // BOBNEW was first observed by that refresh: not inactive for 30 days yet.
      const back = await h.gql(INACTIVE, { days: 0, user: BOB }, root);
      expect(back.body.data.inactiveDevices.map((d: { deviceId: string }) => d.deviceId)).toEqual([
        "BOBPC",
      ]);
      time.advance(1);
      const later = await h.gql(INACTIVE, { days: 0, user: BOB }, root);
      expect(later.body.data.inactiveDevices).toContainEqual({
        deviceId: "BOBNEW",
        userId: BOB,
        source: "LIVE",
        isCurrent: false,
        lastSeenTs: null,
        firstObservedAt: new Date(LATER).toISOString(),
      });
    });

    it("keeps today's path for the viewer's own id (no admin call)", async () => {
      const own = await h.gql(INACTIVE, { days: 30, user: ALICE }, tokens.alice);
      const omitted = await h.gql(INACTIVE, { days: 30 }, tokens.alice);
      expect(own.body).toEqual(omitted.body);
      // PHONE is this token's device: the homeserver has just seen it.
      expect(own.body.data.inactiveDevices.map((d: { deviceId: string }) => d.deviceId)).toEqual([
        "../../x",
        "LAPTOP",
        "UNUSED",
        "a/b",
      ]);
      expect(adminCalls(h.fake)).toEqual([]);
    });

    it("is FORBIDDEN for non-admins after one refused admin call", async () => {
      const { body } = await h.gql(
        `query { a: inactiveDevices(inactiveForDays: 30, userId: "${ALICE}") { deviceId }
                 b: inactiveDevices(inactiveForDays: 1, userId: "${ALICE}") { deviceId } }`,
        {},
        tokens.bob,
      );
      expect(body.data).toBeNull();
      expect(codes(body)).toContainEqual({ code: "FORBIDDEN", errcode: "M_FORBIDDEN" });
      expect(adminCalls(h.fake)).toHaveLength(1);
    });

    it("refuses malformed ids before any upstream call; unknown and remote users are BAD_USER_INPUT", async () => {
      const malformed = await h.gql(INACTIVE, { days: 30, user: "bob" }, root);
      expect(codes(malformed.body)).toEqual([{ code: "BAD_USER_INPUT" }]);
      expect(h.fake.requests).toEqual([]);
      const unknown = await h.gql(INACTIVE, { days: 30, user: "@nobody:localhost" }, root);
      expect({ data: unknown.body.data, codes: codes(unknown.body) }).toEqual({
        data: null,
        codes: [{ code: "BAD_USER_INPUT", errcode: "M_NOT_FOUND" }],
      });
      const remote = await h.gql(INACTIVE, { days: 30, user: "@bob:elsewhere.example" }, root);
      expect({ data: remote.body.data, codes: codes(remote.body) }).toEqual({
        data: null,
        codes: [{ code: "BAD_USER_INPUT", errcode: "M_UNKNOWN" }],
      });
    });

    it("answers the viewer's own from the cache during an outage, never another user's", async () => {
      await h.gql("{ viewer { userId } }", {}, root); // remembered within STALE_IDENTITY_TTL_S
      await h.fake.stop();
      const own = await h.gql(INACTIVE, { days: 30, user: ROOT }, root);
      expect(own.body).toEqual({
        data: {
          inactiveDevices: [
            {
              deviceId: "ROOTPC",
              userId: ROOT,
              source: "CACHE",
              isCurrent: true,
              lastSeenTs: NOW,
              firstObservedAt: AT_NOW,
            },
          ],
        },
        extensions: { stale: { reason: "UPSTREAM_UNAVAILABLE", cachedAt: AT_NOW } },
      });
      const other = await h.gql(INACTIVE, { days: 30, user: BOB }, root);
      expect(other.body).toEqual({
        data: null,
        errors: [expect.objectContaining({ extensions: { code: "UPSTREAM_UNAVAILABLE" } })],
      });
    });
  });

  describe("Query.inactiveDevicesAcrossUsers", () => {
    const edge = (userId: string, deviceId: string, lastSeenTs: number | null) => ({
      userId,
      deviceId,
      source: "CACHE",
      lastSeenTs,
      firstObservedAt: AT_NOW,
      isCurrent: false,
    });

    it("pages every user's inactive devices, oldest activity first, to the end", async () => {
      const nodes: unknown[] = [];
      const pages: unknown[] = [];
      let after: string | null = null;
      for (;;) {
        const { body } = await h.gql(ACROSS, { days: 30, first: 3, after }, root);
        expect(body.errors).toBeUndefined();
        const page = body.data.inactiveDevicesAcrossUsers;
        pages.push([page.totalCount, page.pageInfo.hasNextPage, page.edges.length]);
        nodes.push(...page.edges.map((e: { node: unknown }) => e.node));
        expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(pages).toEqual([
        [7, true, 3],
        [7, true, 3],
        [7, false, 1],
      ]);
      expect(nodes).toEqual([
        edge(ALICE, "LAPTOP", 1_474_491_775_024),
        edge(ALICE, "../../x", null),
        edge(ALICE, "PHONE", NOW),
        edge(ALICE, "UNUSED", null),
        edge(ALICE, "a/b", null),
        edge(BOB, "BOBPC", NOW),
        { ...edge(ROOT, "ROOTPC", NOW), isCurrent: true },
      ]);
      // One admin call proves admin-ness; the rest is the cache's.
      expect(adminCalls(h.fake).map((r) => `${r.method} ${r.path}`)).toEqual([
        "GET /_synapse/admin/v2/users/%40root%3Alocalhost",
        "GET /_synapse/admin/v2/users/%40root%3Alocalhost",
        "GET /_synapse/admin/v2/users/%40root%3Alocalhost",
      ]);
      expect(h.fake.requests.filter((r) => r.path.endsWith("/devices"))).toEqual([]);
    });

    it("leaves out devices deleted through the admin API and the recently active", async () => {
      const deleted = await h.gql(
        `mutation { deleteDevice(deviceId: "LAPTOP", userId: "${ALICE}") { __typename } }`,
        {},
        root,
      );
      expect(deleted.body).toEqual({ data: { deleteDevice: { __typename: "DeviceDeleted" } } });
      await h.cache.store.flush();
      time.set(NOW + DAY / 2); // cutoff NOW - DAY/2: nothing seen or first observed at NOW
      const { body } = await h.gql(ACROSS, { days: 0, first: 10 }, root);
      expect(body.data.inactiveDevicesAcrossUsers).toEqual({
        totalCount: 6,
        pageInfo: { hasNextPage: false, endCursor: expect.any(String) },
        edges: expect.any(Array),
      });
      const ids = body.data.inactiveDevicesAcrossUsers.edges.map(
        (e: { node: { deviceId: string } }) => e.node.deviceId,
      );
      expect(ids).toEqual(["../../x", "PHONE", "UNUSED", "a/b", "BOBPC", "ROOTPC"]);
      const recent = await h.gql(ACROSS, { days: 1 }, root);
      expect(recent.body.data.inactiveDevicesAcrossUsers).toEqual({
        totalCount: 0,
        pageInfo: { hasNextPage: false, endCursor: null },
        edges: [],
      });
    });

    it("is FORBIDDEN for non-admins, with one admin call", async () => {
      const { body } = await h.gql(ACROSS, { days: 30 }, tokens.alice);
      expect({ data: body.data, codes: codes(body) }).toEqual({
        data: null,
        codes: [{ code: "FORBIDDEN", errcode: "M_FORBIDDEN" }],
      });
      expect(adminCalls(h.fake).map((r) => `${r.method} ${r.path}`)).toEqual([
        "GET /_synapse/admin/v2/users/%40alice%3Alocalhost",
      ]);
    });

    it("refuses forged cursors, first over the cap and bad days before any upstream call", async () => {
      const forged = [
        "%%%",
        Buffer.from("inactive:not json").toString("base64url"),
        Buffer.from('inactive:[1.5,"@a:b","X"]').toString("base64url"),
        Buffer.from('inactive:[1,"@a:b"]').toString("base64url"),
        Buffer.from('inactive:{"t":1}').toString("base64url"),
        Buffer.from("users:3").toString("base64url"),
      ];
      for (const variables of [
        { days: 30, first: 101 },
        { days: 30, first: -1 },
        { days: -1 },
        ...forged.map((after) => ({ days: 30, after })),
      ]) {
        const { body } = await h.gql(ACROSS, variables, root);
        expect({ data: body.data, codes: codes(body) }).toEqual({
          data: null,
          codes: [{ code: "BAD_USER_INPUT" }],
        });
      }
      expect(h.fake.requests).toEqual([]);
    });

    it("fails during an outage rather than answer without proof of admin-ness", async () => {
      await h.fake.stop();
      const { body } = await h.gql(ACROSS, { days: 30 }, root);
      expect({ data: body.data, codes: codes(body), extensions: body.extensions }).toEqual({
        data: null,
        codes: [{ code: "UPSTREAM_UNAVAILABLE" }],
        extensions: undefined,
      });
    });
  });
});
