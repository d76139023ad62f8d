import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { adminCalls, DAY, seedAdmin } from "../support/admin-fixtures.ts";
import { DEVICES } from "../support/cache-fixtures.ts";
import {
  type CachedHarness,
  type Clock,
  clock,
  startCachedHarness,
} from "../support/cache-harness.ts";
import { AVAILABLE_KINDS, suiteDatabase } from "../support/databases.ts";
import { ALICE, NOW, seedAlice } from "../support/fixtures.ts";

const LATER = NOW + 31 * DAY;

describe.each(AVAILABLE_KINDS)("admin-API deletions mark the cache on %s", (kind) => {
  const db = suiteDatabase(kind);
  let h: CachedHarness;
  let time: Clock;
  let root: string;

  /** Alice lists her devices at NOW (all five cached); 31 days later an admin cleans up. */
  beforeEach(async () => {
    time = clock(NOW);
    h = await startCachedHarness(db.url, { now: time.now });
    await h.cache.prisma.deviceSnapshot.deleteMany();
    const tokens = seedAlice(h.fake);
    root = seedAdmin(h.fake);
    await h.gql(DEVICES, {}, tokens.alice);
    await h.cache.store.flush();
    time.set(LATER);
    h.fake.requests.length = 0;
  });
  afterEach(() => h.stop());

  /** Alice's cached devices, with when the cache learnt each was deleted (null = not). */
  async function aliceRows() {
    await h.cache.store.flush();
    const rows = await h.cache.prisma.deviceSnapshot.findMany({
      where: { userId: ALICE },
      select: { deviceId: true, deletedAt: true },
      orderBy: { deviceId: "asc" },
    });
    return Object.fromEntries(rows.map((r) => [r.deviceId, r.deletedAt?.toISOString() ?? null]));
  }

  const gone = new Date(LATER).toISOString();

  it("deleteDevice with another userId", async () => {
    const { body } = await h.gql(
      `mutation { deleteDevice(deviceId: "LAPTOP", userId: "${ALICE}") { __typename } }`,
      {},
      root,
    );
    expect(body).toEqual({ data: { deleteDevice: { __typename: "DeviceDeleted" } } });
    expect(await aliceRows()).toEqual({
      "../../x": null,
      LAPTOP: gone,
      PHONE: null,
      UNUSED: null,
      "a/b": null,
    });
    // Marked from the deletion itself: no device list was fetched afterwards.
    expect(adminCalls(h.fake).map((r) => `${r.method} ${r.path}`)).toEqual([
      "DELETE /_synapse/admin/v2/users/%40alice%3Alocalhost/devices/LAPTOP",
    ]);
  });

  it("deleteDevices with another userId", async () => {
    const { body } = await h.gql(
      `mutation { deleteDevices(deviceIds: ["UNUSED", "a/b"], userId: "${ALICE}") {
        __typename ... on DevicesDeleted { deviceIds } } }`,
      {},
      root,
    );
    expect(body).toEqual({
      data: { deleteDevices: { __typename: "DevicesDeleted", deviceIds: ["UNUSED", "a/b"] } },
    });
    expect(await aliceRows()).toEqual({
      "../../x": null,
      LAPTOP: null,
      PHONE: null,
      UNUSED: gone,
      "a/b": gone,
    });
  });

  it("deleteInactiveDevices for another user, a real run (a dry run marks nothing)", async () => {
    const mutation = (dryRun: boolean) => `mutation {
      deleteInactiveDevices(userId: "${ALICE}", inactiveForDays: 30, keepLatest: 1, dryRun: ${dryRun}) {
        __typename ... on InactiveDevicesDeleted { deviceIds keptDeviceIds } } }`;
    const planned = await h.gql(mutation(true), {}, root);
    expect(await aliceRows()).toEqual({
      "../../x": null,
      LAPTOP: null,
      PHONE: null,
      UNUSED: null,
      "a/b": null,
    });
    const { body } = await h.gql(mutation(false), {}, root);
    expect(body).toEqual(planned.body);
    expect(body.data.deleteInactiveDevices.keptDeviceIds).toEqual(["PHONE"]);
    expect(await aliceRows()).toEqual({
      "../../x": gone,
      LAPTOP: gone,
      PHONE: null,
      UNUSED: gone,
      "a/b": gone,
    });
  });
});
