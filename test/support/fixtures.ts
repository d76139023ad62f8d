import type { FakeHomeserver } from "./fake-homeserver.ts";

/** A fixed "now" for the fake homeserver, so last-seen values can be asserted exactly. */
export const NOW = 1_700_000_000_000;
export const ALICE = "@alice:localhost";
export const BOB = "@bob:localhost";
export const ALICE_PASSWORD = "correct horse battery staple";
export const BOB_PASSWORD = "bob's secret";

/**
 * Alice with a phone (whose token the tests use), a laptop last seen in 2016, a never-used
 * device, and the awkward ids `a/b` and `../../x`; Bob with one device.
 */
export function seedAlice(fake: FakeHomeserver) {
  fake.addUser({ userId: ALICE, password: ALICE_PASSWORD });
  fake.addUser({ userId: BOB, password: BOB_PASSWORD });
  const alice = fake.addDevice(ALICE, {
    deviceId: "PHONE",
    displayName: "Alice's phone",
    lastSeenIp: "10.0.0.1",
    lastSeenTs: NOW - 60_000,
  });
  const laptop = fake.addDevice(ALICE, {
    deviceId: "LAPTOP",
    displayName: "Laptop",
    lastSeenIp: "10.0.0.2",
    lastSeenTs: 1_474_491_775_024,
  });
  fake.addDevice(ALICE, { deviceId: "UNUSED" });
  fake.addDevice(ALICE, { deviceId: "a/b", displayName: "slashed" });
  fake.addDevice(ALICE, { deviceId: "../../x", displayName: "dotted" });
  const bob = fake.addDevice(BOB, {
    deviceId: "BOBPC",
    displayName: "Bob's PC",
    lastSeenIp: "10.0.0.9",
    lastSeenTs: NOW - 5_000,
  });
  return { alice, laptop, bob };
}

/** Upstream requests whose raw path ends with `suffix` (e.g. "/devices"). */
export function upstream(fake: FakeHomeserver, method: string, suffix: string) {
  return fake.requests.filter((r) => r.method === method && r.path.endsWith(suffix));
}
