import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { DEVICES } from "../support/cache-fixtures.ts";
import {
  type CachedHarness,
  type Clock,
  clock,
  startCachedHarness,
} from "../support/cache-harness.ts";
import { AVAILABLE_KINDS, PG_ADMIN_URL, suiteDatabase } from "../support/databases.ts";
import { ALICE, BOB, NOW, seedAlice } from "../support/fixtures.ts";

const DAY = 86_400_000;

describe.each(AVAILABLE_KINDS)("stale-if-error and scope on %s", (kind) => {
  const db = suiteDatabase(kind);
  let h: CachedHarness;
  let time: Clock;
  let tokens: ReturnType<typeof seedAlice>;

  afterEach(async () => {
    await h.stop();
    await h.cache.prisma.$executeRawUnsafe('DELETE FROM "device_sighting"').catch(() => {});
  });

  /** Alice and Bob each list their devices once, live; then the homeserver goes away. */
  async function seenThenDown(env: Record<string, string> = {}) {
    time = clock(NOW);
    h = await startCachedHarness(db.url, { now: time.now, env });
    await h.cache.prisma.deviceSnapshot.deleteMany();
    tokens = seedAlice(h.fake);
    await h.gql(DEVICES, {}, tokens.alice);
    await h.gql(DEVICES, {}, tokens.bob);
    await h.cache.store.flush();
  }

  it("answers devices, device and inactiveDevices from the cache while the homeserver is down", async () => {
    await seenThenDown();
    await h.fake.stop();
    time.advance(60_000);
    const { body } = await h.gql(
      `{ devices { deviceId userId source lastSeenIp isCurrent lastObservedAt }
         viewer { devices { deviceId source } }
         laptop: device(deviceId: "LAPTOP") { displayName source }
         inactiveDevices(inactiveForDays: 30) { deviceId source } }`,
      {},
      tokens.alice,
    );
    const cached = (deviceId: string, lastSeenIp: string | null, isCurrent = false) => ({
      deviceId,
      userId: ALICE,
      source: "CACHE",
      lastSeenIp,
      isCurrent,
      lastObservedAt: new Date(NOW).toISOString(),
    });
    expect(body).toEqual({
      data: {
        devices: [
          cached("../../x", null),
          cached("LAPTOP", "10.0.0.2"),
          cached("PHONE", "127.0.0.1", true),
          cached("UNUSED", null),
          cached("a/b", null),
        ],
        viewer: {
          devices: ["../../x", "LAPTOP", "PHONE", "UNUSED", "a/b"].map((deviceId) => ({
            deviceId,
            source: "CACHE",
          })),
        },
        laptop: { displayName: "Laptop", source: "CACHE" },
        inactiveDevices: [{ deviceId: "LAPTOP", source: "CACHE" }],
      },
      extensions: {
        stale: { reason: "UPSTREAM_UNAVAILABLE", cachedAt: new Date(NOW).toISOString() },
      },
    });
  });

  it("marks a timeout as the reason", async () => {
    await seenThenDown({ UPSTREAM_TIMEOUT_MS: "300" });
    h.fake.inject({ kind: "hang" }, { match: /\/devices$/ });
    const { body } = await h.gql("{ devices { deviceId source } }", {}, tokens.bob);
    expect(body).toEqual({
      data: { devices: [{ deviceId: "BOBPC", source: "CACHE" }] },
      extensions: { stale: { reason: "UPSTREAM_TIMEOUT", cachedAt: new Date(NOW).toISOString() } },
    });
  });

  it("refuses tokens it does not remember, or remembers for longer than STALE_IDENTITY_TTL_S", async () => {
    await seenThenDown({ STALE_IDENTITY_TTL_S: "120" });
    const stranger = h.fake.addDevice(ALICE, { deviceId: "NEW" }); // never seen by the gateway
    await h.fake.stop();
    const unavailable = (body: { data: unknown; errors: { extensions: unknown }[] }) => ({
      data: body.data,
      codes: body.errors?.map((e) => e.extensions),
      extensions: (body as { extensions?: unknown }).extensions,
    });
    expect(unavailable((await h.gql("{ devices { deviceId } }", {}, stranger)).body)).toEqual({
      data: null,
      codes: [{ code: "UPSTREAM_UNAVAILABLE" }],
      extensions: undefined,
    });
    time.advance(121_000);
    expect(unavailable((await h.gql("{ devices { deviceId } }", {}, tokens.alice)).body)).toEqual({
      data: null,
      codes: [{ code: "UPSTREAM_UNAVAILABLE" }],
      extensions: undefined,
    });
  });

  it("never falls back for mutations", async () => {
    await seenThenDown();
    await h.fake.stop();
    const { body } = await h.gql(
      'mutation { renameDevice(deviceId: "LAPTOP", displayName: "x") { __typename } }',
      {},
      tokens.alice,
    );
    expect(body.errors.map((e: { extensions: unknown }) => e.extensions)).toEqual([
      { code: "UPSTREAM_UNAVAILABLE" },
    ]);
    expect(body.extensions).toBeUndefined();
  });

  it("never shows one user's rows to another, live or during an outage", async () => {
    await seenThenDown();
    const query = `{ devices { deviceId userId }
      laptop: device(deviceId: "LAPTOP") { deviceId history { ip } firstObservedAt }
      inactiveDevices(inactiveForDays: 0) { deviceId userId } }`;
    time.advance(1_000);
    // Alice's LAPTOP (2016) is inactive and in the cache, but not Bob's to see.
    const live = await h.gql(query, {}, tokens.bob);
    expect(live.body).toEqual({
      data: { devices: [{ deviceId: "BOBPC", userId: BOB }], laptop: null, inactiveDevices: [] },
    });
    await h.fake.stop();
    time.advance(1_000);
    const stale = await h.gql(query, {}, tokens.bob);
    expect(stale.body.data).toEqual({
      devices: [{ deviceId: "BOBPC", userId: BOB }],
      laptop: null,
      inactiveDevices: [{ deviceId: "BOBPC", userId: BOB }],
    });
    expect(stale.body.extensions.stale.reason).toBe("UPSTREAM_UNAVAILABLE");
    // Alice's rows are there, and hers alone to read.
    const alice = await h.gql("{ devices { deviceId } }", {}, tokens.alice);
    expect(alice.body.data.devices).toHaveLength(5);
  });

  it("rejects bad inactiveForDays and history limits", async () => {
    await seenThenDown();
    for (const query of [
      "{ inactiveDevices(inactiveForDays: -1) { deviceId } }",
      "{ inactiveDevices(inactiveForDays: 1000000) { deviceId } }",
      '{ device(deviceId: "LAPTOP") { history(limit: 101) { ip } } }',
      '{ device(deviceId: "LAPTOP") { history(limit: -1) { ip } } }',
    ]) {
      const { body } = await h.gql(query, {}, tokens.alice);
      expect(body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual([
        "BAD_USER_INPUT",
      ]);
    }
  });

  it("answers live while the database is unavailable, logs it once, and catches up after", async () => {
    await seenThenDown();
    const release = await makeUnavailable(kind, db.url);
    try {
      h.fake.setDevice(ALICE, {
        deviceId: "LAPTOP",
        displayName: "Laptop",
        lastSeenIp: "10.9.9.9",
        lastSeenTs: NOW,
      });
      for (let i = 0; i < 3; i++) {
        const { body } = await h.gql(
          '{ viewer { userId } device(deviceId: "LAPTOP") { lastSeenIp source history { ip } } }',
          {},
          tokens.alice,
        );
        expect(body.data.device).toMatchObject({ lastSeenIp: "10.9.9.9", source: "LIVE" });
        await h.cache.store.flush();
      }
      expect(h.cache.store.stats().failures).toBeGreaterThanOrEqual(3);
      const failed = h.cacheLogs.filter((line) => line.includes("database write failed"));
      expect(failed).toHaveLength(1);
    } finally {
      await release();
    }
    await h.cache.store.flush();
    expect(h.cacheLogs.filter((line) => line.includes("writable again"))).toHaveLength(1);
    const row = await h.cache.prisma.deviceSnapshot.findFirst({
      where: { userId: ALICE, deviceId: "LAPTOP" },
    });
    expect(row?.lastSeenIp).toBe("10.9.9.9");
  });

  it("purges old sightings and deleted devices on retention", async () => {
    await seenThenDown();
    const prisma = h.cache.prisma;
    await prisma.deviceSnapshot.update({
      where: { userId_deviceId: { userId: ALICE, deviceId: "UNUSED" } },
      data: { deletedAt: new Date(NOW - 10 * DAY) },
    });
    await prisma.deviceSighting.create({
      data: {
        userId: ALICE,
        deviceId: "UNUSED",
        ip: "10.1.1.1",
        seenTs: BigInt(NOW - 20 * DAY),
        observedAt: new Date(NOW),
      },
    });
    time.advance(85 * DAY); // LAPTOP's 2016 sighting is long past; UNUSED was deleted 95 days ago
    await h.cache.purge();
    const left = await prisma.deviceSighting.findMany({
      where: { userId: ALICE },
      select: { deviceId: true },
    });
    expect(left.map((s) => s.deviceId).sort()).toEqual(["PHONE"]);
    const devices = await prisma.deviceSnapshot.findMany({
      where: { userId: ALICE },
      select: { deviceId: true },
    });
    expect(devices.map((d) => d.deviceId).sort()).toEqual(["../../x", "LAPTOP", "PHONE", "a/b"]);
  });
});

/** Takes the database away from the gateway; resolves to a function giving it back. */
async function makeUnavailable(kind: string, url: string): Promise<() => Promise<void>> {
  if (kind === "sqlite") {
    // Root ignores file modes, so a read-only file would not stop us: hold an exclusive lock.
    const blocker = new Database(url.slice("file:".length));
    blocker.exec("BEGIN EXCLUSIVE");
    return async () => {
      blocker.exec("ROLLBACK");
      blocker.close();
    };
  }
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
  await admin.query(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    [name],
  );
  return async () => {
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    await admin.end();
  };
}
