import { afterAll, describe, expect, it } from "vitest";
import { type CachedHarness, startCachedHarness } from "../support/cache-harness.ts";
import { AVAILABLE_KINDS, createDatabase, type TestDatabase } from "../support/databases.ts";
import { ALICE, NOW, seedAlice } from "../support/fixtures.ts";

describe.runIf(AVAILABLE_KINDS.includes("postgresql"))("two gateways on one PostgreSQL", () => {
  const running: CachedHarness[] = [];
  let db: TestDatabase;
  afterAll(async () => {
    for (const h of running) await h.stop();
    await db?.drop();
  });

  it("see each other's observations", async () => {
    db = await createDatabase("postgresql");
    // Two replicas, each with its own database pool, in front of one homeserver's data.
    const a = await startCachedHarness(db.url, { now: () => NOW });
    const b = await startCachedHarness(db.url, { now: () => NOW });
    running.push(a, b);
    const tokensA = seedAlice(a.fake);
    const tokensB = seedAlice(b.fake);
    await b.gql("{ viewer { userId } }", {}, tokensB.alice); // B knows the token

    await a.gql("{ viewer { userId } devices { deviceId } }", {}, tokensA.alice);
    a.fake.setDevice(ALICE, {
      deviceId: "LAPTOP",
      displayName: "Seen by A",
      lastSeenIp: "10.7.7.7",
      lastSeenTs: NOW,
    });
    await a.gql("{ viewer { userId } devices { deviceId } }", {}, tokensA.alice);
    await a.cache.store.flush();

    // B has never seen LAPTOP change, yet answers with A's observation (and its history).
    await b.fake.stop();
    const { body } = await b.gql(
      '{ device(deviceId: "LAPTOP") { displayName lastSeenIp source history { ip } } }',
      {},
      tokensB.alice,
    );
    expect(body.data.device).toEqual({
      displayName: "Seen by A",
      lastSeenIp: "10.7.7.7",
      source: "CACHE",
      history: [{ ip: "10.7.7.7" }, { ip: "10.0.0.2" }],
    });

    expect(await b.cache.prisma.deviceSighting.count({ where: { deviceId: "LAPTOP" } })).toBe(2);
  });
});
