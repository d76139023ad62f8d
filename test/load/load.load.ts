import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import { describe, expect, it } from "vitest";
import { startGatewayProcess } from "../support/gateway-process.ts";

/**
 * `npm run test:load`: the real gateway process (src/main.ts) in front of the fake homeserver
 * (its own process), loopback only. 10 000 requests at 32 connections: no 5xx the gateway caused,
 * and resident memory after the run at most 1.3 × what it was after warm-up.
 */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

describe("load", () => {
  it("10 000 requests at 32 connections: zero 5xx, RSS after ≤ 1.3 × RSS after warm-up", async () => {
    const fake = fork(new URL("../../bench/fake-server.ts", import.meta.url), {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const info = await new Promise<{ url: string; token: string; deviceIds: string[] }>((resolve) =>
      fake.once("message", (m) => resolve(m as never)),
    );
    const gw = await startGatewayProcess({ MATRIX_HOMESERVER_URL: info.url });
    try {
      const lookups = info.deviceIds
        .map((id, i) => `d${i}: device(deviceId: "${id}") { deviceId displayName lastSeenTs }`)
        .join(" ");
      const body = (query: string) => JSON.stringify({ query });
      const options = {
        url: `${gw.url}/graphql`,
        method: "POST" as const,
        headers: { authorization: `Bearer ${info.token}`, "content-type": "application/json" },
        requests: [
          { body: body("query List { devices { deviceId displayName lastSeenIp lastSeenTs } }") },
          { body: body(`query Lookups { ${lookups} }`) },
          { body: body("query Me { viewer { userId deviceId } }") },
        ],
      };
      const warmup = await autocannon({ ...options, connections: 32, amount: 2_000 });
      expect(warmup["5xx"]).toBe(0);
      const afterWarmup = rssMb(gw.pid);

      const run = await autocannon({ ...options, connections: 32, amount: 10_000, timeout: 30 });
      const after = rssMb(gw.pid);
      console.log(
        `load: ${run.requests.total} requests, ${Math.round(run.requests.average)} req/s, ` +
          `p99 ${run.latency.p99} ms, RSS ${afterWarmup.toFixed(1)} MB after warm-up -> ` +
          `${after.toFixed(1)} MB after (${(after / afterWarmup).toFixed(2)}x)`,
      );
      expect(run.requests.total).toBeGreaterThanOrEqual(10_000);
      expect(run.errors).toBe(0);
      expect(run.timeouts).toBe(0);
      expect(run["5xx"]).toBe(0);
      expect(run.non2xx).toBe(0);
      expect(after).toBeLessThanOrEqual(afterWarmup * 1.3);
    } finally {
      gw.child.kill("SIGTERM");
      expect(await gw.exited).toBe(0);
      fake.disconnect();
    }
  });
});
