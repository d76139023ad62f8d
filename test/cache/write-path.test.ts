import { afterEach, describe, expect, it } from "vitest";
import { deleteUpstream } from "../support/cache-fixtures.ts";
import {
  type CachedHarness,
  type Clock,
  clock,
  startCachedHarness,
} from "../support/cache-harness.ts";
import { AVAILABLE_KINDS, suiteDatabase } from "../support/databases.ts";
import { ALICE, ALICE_PASSWORD, NOW, seedAlice } from "../support/fixtures.ts";

const LIST = "{ viewer { userId } devices { deviceId } }";

describe.each(AVAILABLE_KINDS)("last-seen write path on %s", (kind) => {
  const db = suiteDatabase(kind);
  let h: CachedHarness;
  let time: Clock;
  let tokens: ReturnType<typeof seedAlice>;

  afterEach(async () => {
    await h.cache.prisma.deviceSighting.deleteMany();
    await h.cache.prisma.deviceSnapshot.deleteMany();
    await h.stop();
  });

  async function start() {
    time = clock(NOW);
    h = await startCachedHarness(db.url, { now: time.now });
    tokens = seedAlice(h.fake);
  }

  const snapshots = () =>
    h.cache.prisma.deviceSnapshot.findMany({ orderBy: [{ userId: "asc" }, { deviceId: "asc" }] });
  const sightings = (deviceId: string) =>
    h.cache.prisma.deviceSighting.findMany({
      where: { userId: ALICE, deviceId },
      orderBy: { seenTs: "asc" },
      select: { ip: true, seenTs: true, observedAt: true },
    });

  it("writes each device once, and nothing more while nothing changes", async () => {
    await start();
    await h.gql(LIST, {}, tokens.alice);
    // Still queued, yet already answered: observed times do not wait for the write.
    expect(h.cache.store.stats().queued).toBe(5);
    time.advance(5_000);
    const early = await h.gql(
      '{ device(deviceId: "UNUSED") { firstObservedAt lastObservedAt source } }',
      {},
      tokens.alice,
    );
    expect(early.body.data.device).toEqual({
      firstObservedAt: new Date(NOW).toISOString(),
      lastObservedAt: new Date(NOW + 5_000).toISOString(),
      source: "LIVE",
    });
    time.set(NOW);
    await h.cache.store.flush();
    const first = h.cache.store.stats();
    expect(first).toMatchObject({ written: 5, batches: 1, queued: 0, dropped: 0, failures: 0 });
    const rows = await snapshots();
    expect(rows.map((row) => row.deviceId)).toEqual([
      "../../x",
      "LAPTOP",
      "PHONE",
      "UNUSED",
      "a/b",
    ]);
    expect(rows.find((row) => row.deviceId === "LAPTOP")).toEqual({
      userId: ALICE,
      deviceId: "LAPTOP",
      displayName: "Laptop",
      lastSeenIp: "10.0.0.2",
      lastSeenTs: 1_474_491_775_024n,
      lastSeenUserAgent: null,
      firstObservedAt: new Date(NOW),
      lastObservedAt: new Date(NOW),
      deletedAt: null,
    });
    // The same answers again (the fake's clock stands still, so PHONE's last-seen does too).
    for (let i = 0; i < 3; i++) await h.gql(LIST, {}, tokens.alice);
    await h.gql('{ viewer { userId } device(deviceId: "LAPTOP") { deviceId } }', {}, tokens.alice);
    await h.cache.store.flush();
    expect(h.cache.store.stats()).toMatchObject({ written: 5, batches: 1, queued: 0 });
  });

  it("coalesces changes per device, keeping one history row per change", async () => {
    await start();
    await h.gql(LIST, {}, tokens.alice);
    await h.cache.store.flush();
    for (const [ip, ts] of [
      ["10.0.0.3", NOW - 3_000],
      ["10.0.0.4", NOW - 2_000],
      ["10.0.0.4", NOW - 2_000], // unchanged: no row
    ] as const) {
      h.fake.setDevice(ALICE, {
        deviceId: "LAPTOP",
        displayName: "Laptop",
        lastSeenIp: ip,
        lastSeenTs: ts,
      });
      await h.gql(LIST, {}, tokens.alice);
    }
    expect(h.cache.store.stats().queued).toBe(1);
    await h.cache.store.flush();
    expect(h.cache.store.stats()).toMatchObject({ written: 6, batches: 2 });
    const at = new Date(NOW);
    expect(await sightings("LAPTOP")).toEqual([
      { ip: "10.0.0.2", seenTs: 1_474_491_775_024n, observedAt: at },
      { ip: "10.0.0.3", seenTs: BigInt(NOW - 3_000), observedAt: at },
      { ip: "10.0.0.4", seenTs: BigInt(NOW - 2_000), observedAt: at },
    ]);
    const { body } = await h.gql(
      '{ device(deviceId: "LAPTOP") { source history(limit: 2) { ip seenAt } } }',
      {},
      tokens.alice,
    );
    expect(body).toEqual({
      data: {
        device: {
          source: "LIVE",
          history: [
            { ip: "10.0.0.4", seenAt: new Date(NOW - 2_000).toISOString() },
            { ip: "10.0.0.3", seenAt: new Date(NOW - 3_000).toISOString() },
          ],
        },
      },
    });
  });

  it("answers history for a list of devices with one query", async () => {
    await start();
    await h.gql(LIST, {}, tokens.alice);
    await h.cache.store.flush();
    const queries: string[] = [];
    const spy = h.cache.prisma.$queryRaw;
    h.cache.prisma.$queryRaw = ((...args: Parameters<typeof spy>) => {
      queries.push("history");
      return spy.apply(h.cache.prisma, args);
    }) as typeof spy;
    const { body } = await h.gql("{ devices { deviceId history { ip } } }", {}, tokens.alice);
    h.cache.prisma.$queryRaw = spy;
    expect(queries).toEqual(["history"]);
    expect(body.data.devices.find((d: { deviceId: string }) => d.deviceId === "LAPTOP")).toEqual({
      deviceId: "LAPTOP",
      history: [{ ip: "10.0.0.2" }],
    });
  });

  it("marks a device deleted when a full list lacks it, and clears that when it returns", async () => {
    await start();
    await h.gql(LIST, {}, tokens.alice);
    await h.cache.store.flush();
    time.advance(1_000);
    await deleteUpstream(h.fake, tokens.alice, ["LAPTOP"]);
    await h.gql(LIST, {}, tokens.alice);
    await h.cache.store.flush();
    const gone = (await snapshots()).filter((row) => row.deletedAt !== null);
    expect(gone.map((row) => [row.deviceId, row.deletedAt])).toEqual([
      ["LAPTOP", new Date(NOW + 1_000)],
    ]);
    // Unchanged lists afterwards write nothing, not even the vanish check.
    const before = h.cache.store.stats().batches;
    await h.gql(LIST, {}, tokens.alice);
    await h.cache.store.flush();
    expect(h.cache.store.stats().batches).toBe(before);

    time.advance(1_000);
    h.fake.setDevice(ALICE, { deviceId: "LAPTOP", displayName: "Laptop again" });
    await h.gql(LIST, {}, tokens.alice);
    await h.cache.store.flush();
    const back = (await snapshots()).find((row) => row.deviceId === "LAPTOP");
    expect(back).toMatchObject({
      deletedAt: null,
      displayName: "Laptop again",
      firstObservedAt: new Date(NOW),
      lastObservedAt: new Date(NOW + 2_000),
    });
  });

  it("marks a device deleted when the gateway deletes it", async () => {
    await start();
    await h.gql(LIST, {}, tokens.alice);
    await h.cache.store.flush();
    const mutation = `mutation($auth: AuthInput) {
      deleteDevice(deviceId: "LAPTOP", auth: $auth) { __typename ... on AuthRequired { session } }
    }`;
    const first = await h.gql(mutation, {}, tokens.alice);
    const session = first.body.data.deleteDevice.session;
    const done = await h.gql(
      mutation,
      { auth: { type: "m.login.password", session, password: ALICE_PASSWORD } },
      tokens.alice,
    );
    expect(done.body.data.deleteDevice.__typename).toBe("DeviceDeleted");
    await h.cache.store.flush();
    const row = (await snapshots()).find((r) => r.deviceId === "LAPTOP");
    expect(row?.deletedAt).toEqual(new Date(NOW));
  });

  it("bounds the queue: the oldest observations are dropped and counted", async () => {
    await start();
    const store = h.cache.store as unknown as { maxQueue: number };
    store.maxQueue = 2;
    await h.gql(LIST, {}, tokens.alice);
    expect(h.cache.store.stats()).toMatchObject({ queued: 2, dropped: 3 });
    await h.cache.store.flush();
    expect((await snapshots()).map((row) => row.deviceId)).toEqual(["UNUSED", "a/b"]);
  });
});
