import { FakeHomeserver } from "../test/support/fake-homeserver.ts";

/**
 * The benchmark's homeserver, in a process of its own so its CPU is not the gateway's. It tells
 * the parent its URL and token, and how many requests it has answered when asked.
 */
const fake = await FakeHomeserver.start();
const userId = `@bench:${fake.serverName}`;
fake.addUser({ userId, password: "bench-password" });
const token = fake.addDevice(userId, { deviceId: "BENCH00", displayName: "bench 0" });
const deviceIds = ["BENCH00"];
for (let i = 1; i < 20; i++) {
  const deviceId = `BENCH${String(i).padStart(2, "0")}`;
  fake.addDevice(userId, {
    deviceId,
    displayName: `bench ${i}`,
    lastSeenIp: `198.51.100.${i}`,
    lastSeenTs: Date.now() - i * 86_400_000,
  });
  deviceIds.push(deviceId);
}

// "churn": every device's last-seen changes (every millisecond), so each answer differs.
let churn: NodeJS.Timeout | null = null;
process.on("message", (message: string) => {
  if (message === "churn" || message === "calm") {
    if (churn !== null) clearInterval(churn);
    churn =
      message === "churn"
        ? setInterval(() => {
            const now = Date.now();
            for (const [i, deviceId] of deviceIds.entries()) {
              fake.setDevice(userId, {
                deviceId,
                displayName: `bench ${i}`,
                lastSeenIp: `198.51.100.${i}`,
                lastSeenTs: now - i,
              });
            }
          }, 1)
        : null;
    process.send?.({ churning: message === "churn" });
  }
  if (message === "count") process.send?.({ count: fake.requests.length });
  if (message === "clear") {
    fake.clearLog();
    process.send?.({ cleared: true });
  }
});
process.on("disconnect", () => void fake.stop().then(() => process.exit(0)));
process.send?.({ url: fake.url, token, deviceIds });
