import { describe, expect, it } from "vitest";
import { mapWithConcurrency } from "../../src/concurrency.ts";
import type { MatrixDevice } from "../../src/homeserver/client-server.ts";
import { DAY_MS, planInactiveDeletion } from "../../src/inactive-plan.ts";
import { isUserId } from "../../src/user-id.ts";

function device(deviceId: string, lastSeenTs: number | null): MatrixDevice {
  return { deviceId, displayName: null, lastSeenIp: null, lastSeenTs, lastSeenUserAgent: null };
}

describe("user ids", () => {
  it("accepts @localpart:server_name with ports and IP literals, nothing else", () => {
    for (const id of [
      "@alice:example.org",
      "@a.b_c=d-e/f+g:matrix.example.org:8448",
      "@Historic!id:localhost",
      "@x:[::1]:8008",
      "@x:127.0.0.1",
    ]) {
      expect(isUserId(id), id).toBe(true);
    }
    for (const id of [
      "alice",
      "@alice",
      "@:example.org",
      "@alice:",
      "#room:example.org",
      "@al ice:example.org",
      "@alice:exa_mple.org",
      "@alice:example.org:port",
      `@${"a".repeat(250)}:example.org`,
    ]) {
      expect(isUserId(id), id).toBe(false);
    }
  });
});

describe("planInactiveDeletion", () => {
  const now = 1_000 * DAY_MS;
  const devices = [
    device("NEVER", null),
    device("OLD", now - 100 * DAY_MS),
    device("NEW", now - DAY_MS),
    device("OLDER", now - 200 * DAY_MS),
    device("CURRENT", now - 300 * DAY_MS),
  ];

  it("deletes the inactive ones, keeping the newest and the current device", () => {
    expect(
      planInactiveDeletion(devices, {
        now,
        inactiveForDays: 30,
        keepLatest: 2,
        currentDeviceId: "CURRENT",
      }),
    ).toEqual({ deleteIds: ["OLDER", "NEVER"], keptIds: ["NEW", "OLD", "CURRENT"] });
  });

  it("never leaves fewer than keepLatest devices", () => {
    for (let keepLatest = 0; keepLatest <= 6; keepLatest++) {
      const plan = planInactiveDeletion(devices, {
        now,
        inactiveForDays: 0,
        keepLatest,
        currentDeviceId: null,
      });
      expect(plan.keptIds.length).toBe(Math.min(keepLatest, devices.length));
      expect([...plan.deleteIds, ...plan.keptIds].sort()).toEqual(
        devices.map((d) => d.deviceId).sort(),
      );
    }
  });
});

describe("mapWithConcurrency", () => {
  it("keeps order, settles failures, and never exceeds the limit", async () => {
    let inFlight = 0;
    let max = 0;
    const results = await mapWithConcurrency([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight += 1;
      max = Math.max(max, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      if (n === 4) throw new Error("four");
      return n * 10;
    });
    expect(max).toBe(3);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : "x"))).toEqual([
      10,
      20,
      30,
      "x",
      50,
      60,
      70,
    ]);
  });
});
