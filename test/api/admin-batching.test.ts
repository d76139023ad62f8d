import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminCalls, seedAdmin } from "../support/admin-fixtures.ts";
import { NOW } from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

const USERS = 50;
const CAP = 4;
let h: Harness;
let root: string;

beforeAll(async () => {
  h = await startHarness({
    fake: { now: () => NOW, latencyMs: 15 },
    env: { ADMIN_CONCURRENCY: String(CAP) },
    gateway: { now: () => NOW },
  });
  root = seedAdmin(h.fake);
  for (let i = 0; i < USERS - 1; i++) {
    const userId = `@user${String(i).padStart(2, "0")}:localhost`;
    h.fake.addUser({ userId, password: "p" });
    h.fake.addDevice(userId, { deviceId: "PHONE", lastSeenTs: NOW - i * 86_400_000 });
  }
});
afterAll(() => h.stop());

describe("a dashboard over 50 users", () => {
  it("costs one admin GET per user, at most ADMIN_CONCURRENCY at a time, deduplicated", async () => {
    h.fake.clearLog();
    let maxInFlight = 0;
    const sampler = setInterval(() => {
      const inFlight = adminCalls(h.fake, "/devices").filter((r) => r.status === 0).length;
      maxInFlight = Math.max(maxInFlight, inFlight);
    }, 2);
    const { body } = await h
      .gql(
        `{
        users(first: 50) {
          totalCount
          edges { node {
            userId
            devices { deviceId }
            phone: device(deviceId: "PHONE") { lastSeenTs }
            inactiveDevices(inactiveForDays: 10) { deviceId }
          } }
        }
        again: user(userId: "@user07:localhost") { devices { deviceId } }
      }`,
        {},
        root,
      )
      .finally(() => clearInterval(sampler));

    expect(body.errors).toBeUndefined();
    expect(body.data.users.totalCount).toBe(USERS);
    expect(body.data.users.edges).toHaveLength(USERS);
    const user07 = body.data.users.edges.find(
      (e: { node: { userId: string } }) => e.node.userId === "@user07:localhost",
    ).node;
    expect(user07).toEqual({
      userId: "@user07:localhost",
      devices: [{ deviceId: "PHONE" }],
      phone: { lastSeenTs: NOW - 7 * 86_400_000 },
      inactiveDevices: [],
    });
    const inactive = body.data.users.edges.filter(
      (e: { node: { inactiveDevices: unknown[] } }) => e.node.inactiveDevices.length > 0,
    );
    // user11 … user48 were last seen over 10 days ago; root's console was seen by this request.
    expect(inactive).toHaveLength(38);

    const deviceGets = adminCalls(h.fake, "/devices").map((r) => r.path);
    expect(deviceGets).toHaveLength(USERS);
    expect(new Set(deviceGets).size).toBe(USERS);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(CAP);
  });
});
