import { fork } from "node:child_process";
import autocannon from "autocannon";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { startCachedHarness } from "../support/cache-harness.ts";
import { sqliteDatabase } from "../support/databases.ts";
import { NOW, seedAlice, upstream } from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";
import { freePort, startGatewayProcess } from "../support/gateway-process.ts";

/**
 * `npm run test:faults`: what an operator sees when the homeserver misbehaves, one scenario per
 * fault, each with its expected answer. Loopback only; every scenario is bounded.
 */
let h: Harness | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

const DEVICES = "query Devices { devices { deviceId } }";

async function harness(env: Record<string, string> = {}) {
  h = await startHarness({ fake: { now: () => NOW }, env: { LOG_LEVEL: "info", ...env } });
  const tokens = seedAlice(h.fake);
  await h.gql(DEVICES, {}, tokens.alice); // versions and identity known
  return { h, tokens };
}

function codes(answers: Array<{ body: { errors?: Array<{ extensions: { code: string } }> } }>) {
  return answers.map((a) => a.body.errors?.[0]?.extensions.code ?? "OK");
}

describe("fault: upstream hang", () => {
  it("every caller gets UPSTREAM_TIMEOUT after UPSTREAM_TIMEOUT_MS; health stays instant", async () => {
    const { h, tokens } = await harness({ UPSTREAM_TIMEOUT_MS: "400" });
    h.fake.inject({ kind: "hang" }, { match: /\/devices$/, times: 20 });
    const pending = Array.from({ length: 20 }, () => h.gql(DEVICES, {}, tokens.alice));
    while (upstream(h.fake, "GET", "/devices").length < 21)
      await new Promise((r) => setTimeout(r, 5));
    // All 20 are hanging upstream right now; the gateway still answers.
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    expect(upstream(h.fake, "GET", "/devices").filter((r) => r.status === 0)).toHaveLength(20);
    const answers = await Promise.all(pending);
    expect(new Set(codes(answers))).toEqual(new Set(["UPSTREAM_TIMEOUT"]));
  });
});

describe("fault: 5xx burst", () => {
  it("short bursts are absorbed by retries; a long one opens the breaker, and it recovers", async () => {
    const { h, tokens } = await harness({
      BREAKER_FAILURE_THRESHOLD: "5",
      BREAKER_COOLDOWN_MS: "300",
    });
    // A one-off 503 per request: every request retries and succeeds.
    const absorbed = [];
    for (let i = 0; i < 5; i++) {
      h.fake.inject({ kind: "status", status: 503 }, { match: /\/devices$/ });
      absorbed.push(await h.gql(DEVICES, {}, tokens.alice));
    }
    expect(codes(absorbed)).toEqual(["OK", "OK", "OK", "OK", "OK"]);

    // A homeserver that keeps failing: UPSTREAM_UNAVAILABLE, then the breaker stops the calls.
    h.fake.inject({ kind: "status", status: 502 }, { match: /\/devices$/, times: 1000 });
    const burst = [];
    for (let i = 0; i < 10; i++) burst.push(await h.gql(DEVICES, {}, tokens.alice));
    expect(new Set(codes(burst))).toEqual(new Set(["UPSTREAM_UNAVAILABLE"]));
    expect(h.gateway.breaker.state).not.toBe("closed");
    expect(upstream(h.fake, "GET", "/devices").length).toBeLessThan(1 + 5 + 5 * 3 + 3);
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).toBe(503);

    h.fake.clearFaults();
    let recovered = false;
    for (let i = 0; i < 100 && !recovered; i++) {
      await new Promise((r) => setTimeout(r, 50));
      recovered = codes([await h.gql(DEVICES, {}, tokens.alice)])[0] === "OK";
    }
    expect(recovered).toBe(true);
    expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
  });
});

describe("fault: 429 burst", () => {
  it("header form: a wait above RATE_LIMIT_MAX_WAIT_MS goes to the caller as RATE_LIMITED", async () => {
    const { h, tokens } = await harness();
    h.fake.inject(
      { kind: "rateLimit", retryAfterMs: 2000, header: true },
      { times: 10, match: /\/devices$/ },
    );
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => h.gql(DEVICES, {}, tokens.alice)),
    );
    for (const answer of answers) {
      expect(answer.body.errors[0].extensions).toEqual({
        code: "RATE_LIMITED",
        retryAfterMs: 2000,
      });
    }
    expect(upstream(h.fake, "GET", "/devices")).toHaveLength(1 + 10); // never retried
  });

  it("body form: a short retry_after_ms is sat out once, and the callers get their data", async () => {
    const { h, tokens } = await harness();
    h.fake.inject(
      { kind: "rateLimit", retryAfterMs: 100, header: false },
      { times: 10, match: /\/devices$/ },
    );
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => h.gql(DEVICES, {}, tokens.alice)),
    );
    expect(new Set(codes(answers))).toEqual(new Set(["OK"]));
    expect(upstream(h.fake, "GET", "/devices").filter((r) => r.status === 429)).toHaveLength(10);
  });
});

describe("fault: connection refused", () => {
  it("UPSTREAM_UNAVAILABLE for GraphQL, 503 with the reason on /readyz, 200 on /healthz", async () => {
    const port = await freePort(); // nobody listens here
    h = await startHarness({ env: { MATRIX_HOMESERVER_URL: `http://127.0.0.1:${port}` } });
    const { body } = await h.gql(DEVICES, {}, "some-token");
    expect(body.errors[0].extensions).toEqual({ code: "UPSTREAM_UNAVAILABLE" });
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({
      status: "unavailable",
      checks: { homeserver: "The homeserver is unreachable" },
    });
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
  });
});

describe("fault: database down", () => {
  it("live answers keep flowing, write failures are counted, /readyz says why", async () => {
    const db = sqliteDatabase();
    const cached = await startCachedHarness(db.url, {
      fake: { now: () => NOW },
      cache: { flushIntervalMs: 20 },
    });
    h = cached;
    const tokens = seedAlice(cached.fake);
    // Root ignores file modes: an exclusive lock is what takes a SQLite file away from us.
    const blocker = new Database(db.url.slice("file:".length));
    blocker.exec("BEGIN EXCLUSIVE");
    try {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await cached.gql(DEVICES, {}, tokens.alice));
      expect(codes(answers)).toEqual(["OK", "OK", "OK", "OK", "OK"]);
      expect(answers[0]?.body.data.devices).toHaveLength(5);
      const ready = await fetch(`${cached.url}/readyz`);
      expect(ready.status).toBe(503);
      expect((await ready.json()).checks.database).toMatch(/locked/i);
      let failures = 0;
      while (failures === 0) {
        const text = await (await fetch(`${cached.url}/metrics`)).text();
        failures = Number(/^gateway_cache_write_failures_total (\d+)/m.exec(text)?.[1] ?? 0);
        if (failures === 0) await new Promise((r) => setTimeout(r, 20));
      }
      expect(failures).toBeGreaterThan(0);
    } finally {
      blocker.exec("ROLLBACK");
      blocker.close();
    }
    // The database is back: ready again, and the queued sightings reach it.
    expect((await fetch(`${cached.url}/readyz`)).status).toBe(200);
    await cached.cache.store.flush();
    expect(cached.cache.store.stats().queued).toBe(0);
    await db.drop();
  });
});

describe("fault: SIGTERM under load", () => {
  it("finishes what it accepted, exits 0, and no request got a 5xx", async () => {
    const fake = fork(new URL("../../bench/fake-server.ts", import.meta.url), {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const info = await new Promise<{ url: string; token: string }>((resolve) =>
      fake.once("message", (m) => resolve(m as { url: string; token: string })),
    );
    try {
      const gw = await startGatewayProcess({ MATRIX_HOMESERVER_URL: info.url });
      const statuses = new Map<number, number>();
      let finish: (result: autocannon.Result) => void = () => {};
      const done = new Promise<autocannon.Result>((resolve) => {
        finish = resolve;
      });
      const run = autocannon(
        {
          url: `${gw.url}/graphql`,
          method: "POST",
          connections: 16,
          duration: 4,
          headers: { authorization: `Bearer ${info.token}`, "content-type": "application/json" },
          body: JSON.stringify({ query: DEVICES }),
        },
        (_error, result) => finish(result),
      );
      run.on("response", (_client, statusCode) => {
        statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
      });
      const answered = () => [...statuses.values()].reduce((a, b) => a + b, 0);
      while (answered() < 200) await new Promise((r) => setTimeout(r, 20));
      gw.child.kill("SIGTERM");
      const code = await gw.exited;
      const result = await done;
      expect(code).toBe(0);
      expect(statuses.get(200) ?? 0).toBeGreaterThanOrEqual(200);
      expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
      expect(result["5xx"]).toBe(0);
      expect(gw.output()).not.toMatch(/"level":(50|60)/);
    } finally {
      fake.disconnect();
    }
  });
});
