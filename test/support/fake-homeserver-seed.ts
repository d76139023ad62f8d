/** The demo data of `npm run demo`, also handy in tests. Times are relative to the clock. */
import type { FakeDevice, FakeUserInit } from "./fake-homeserver.ts";

interface Seedable {
  readonly serverName: string;
  addUser(user: FakeUserInit): void;
  addDevice(userId: string, device: FakeDevice): string;
}

const MINUTE = 60 * 1000;
const DAY = 24 * 60 * MINUTE;

export function seedDemo(
  hs: Seedable,
  now: number,
): { aliceToken: string; bobToken: string; alice: string; bob: string } {
  const alice = `@alice:${hs.serverName}`;
  const bob = `@bob:${hs.serverName}`;
  hs.addUser({ userId: alice, password: "alice-password", displayName: "Alice", admin: true });
  hs.addUser({ userId: bob, password: "bob-password", displayName: "Bob" });
  const aliceToken = hs.addDevice(alice, {
    deviceId: "ALICEDEV01",
    displayName: "Element on Android",
    lastSeenIp: "203.0.113.7",
    lastSeenTs: now - 5 * MINUTE,
    userAgent: "Element/1.6.20 (Android 14; Pixel 8)",
  });
  hs.addDevice(alice, {
    deviceId: "ALICEDEV02",
    displayName: "Firefox on Linux",
    lastSeenIp: "198.51.100.23",
    lastSeenTs: now - 120 * DAY,
    userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0",
  });
  // Logged in by a script without initial_device_display_name and never used since.
  hs.addDevice(alice, { deviceId: "ALICEDEV03" });
  const bobToken = hs.addDevice(bob, {
    deviceId: "BOBDEV01",
    displayName: "Element Desktop",
    lastSeenIp: "192.0.2.44",
    lastSeenTs: now - 2 * DAY,
    userAgent: "Element/1.11.80 (Windows)",
  });
  hs.addDevice(bob, {
    deviceId: "BOBDEV02",
    displayName: "Element on iOS",
    lastSeenIp: "192.0.2.45",
    lastSeenTs: now - 30 * DAY,
    userAgent: "Element/1.11.20 (iPhone; iOS 17.5)",
  });
  return { aliceToken, bobToken, alice, bob };
}
