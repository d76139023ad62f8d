import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.ts";
import { ALICE_PASSWORD, NOW, seedAlice } from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

let h: Harness | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

const MY_DEVICES = "query MyDevices { devices { deviceId } }";

describe("health", () => {
  it("/healthz is alive; /readyz checks the homeserver and every registered check", async () => {
    let databaseUp = true;
    h = await startHarness({
      gateway: {
        readinessChecks: [
          {
            name: "database",
            check: async () => {
              if (!databaseUp) throw new Error("database not writable");
            },
          },
        ],
      },
    });
    expect(await (await fetch(`${h.url}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: "ready",
      checks: { homeserver: "ok", database: "ok" },
    });
    databaseUp = false;
    const noDb = await fetch(`${h.url}/readyz`);
    expect(noDb.status).toBe(503);
    expect(await noDb.json()).toEqual({
      status: "unavailable",
      checks: { homeserver: "ok", database: "database not writable" },
    });
    await h.fake.stop();
    const down = await fetch(`${h.url}/readyz`);
    expect(down.status).toBe(503);
    expect((await down.json()).checks.homeserver).toBe("The homeserver is unreachable");
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
  });

  it("finishes in-flight requests on close, then runs the shutdown hooks, then refuses", async () => {
    const events: string[] = [];
    h = await startHarness({
      fake: { now: () => NOW, latencyMs: 300 },
      gateway: {
        onShutdown: [
          async () => {
            const answered = h?.logs.some((l) => l.includes('"msg":"POST /graphql 200"'));
            events.push(answered ? "flushed after the answer" : "flushed too early");
          },
        ],
      },
    });
    const tokens = seedAlice(h.fake);
    const inFlight = h.gql(MY_DEVICES, {}, tokens.alice);
    while (h.fake.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const closing = h.gateway.close(5000);
    const answer = await inFlight;
    await closing;
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data.devices).toHaveLength(5);
    expect(events).toEqual(["flushed after the answer"]);
    await expect(fetch(`${h.url}/healthz`)).rejects.toThrow();
  });
});

describe("metrics", () => {
  it("counts requests per operation, errors by code, upstream calls by template and status", async () => {
    h = await startHarness({ fake: { now: () => NOW } });
    const tokens = seedAlice(h.fake);
    await h.gql(MY_DEVICES, {}, tokens.alice);
    h.fake.inject({ kind: "status", status: 503 }, { match: /\/devices$/, times: 3 });
    await h.gql(MY_DEVICES, {}, tokens.alice);
    await h.gql(`query Lookup { device(deviceId: "a/b") { deviceId } }`, {}, tokens.alice);
    const response = await fetch(`${h.url}/metrics`);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(text).toContain('gateway_graphql_requests_total{operation="MyDevices",status="200"} 2');
    expect(text).toContain('gateway_graphql_requests_total{operation="Lookup",status="200"} 1');
    expect(text).toContain('gateway_graphql_errors_total{code="UPSTREAM_UNAVAILABLE"} 1');
    expect(text).toContain(
      'gateway_upstream_requests_total{method="GET",endpoint="/_matrix/client/v3/devices",status="200"} 1',
    );
    expect(text).toContain(
      'gateway_upstream_requests_total{method="GET",endpoint="/_matrix/client/v3/devices",status="503"} 3',
    );
    expect(text).toContain(
      'gateway_upstream_requests_total{method="GET",endpoint="/_matrix/client/v3/devices/{deviceId}",status="200"} 1',
    );
    expect(text).toMatch(
      /gateway_graphql_request_duration_seconds_count\{operation="MyDevices"\} 2/,
    );
    expect(text).toContain("gateway_cache_queue_depth 0");
    expect(text).toContain("gateway_cache_write_failures_total 0");
  });

  it("bounds operation-name labels", async () => {
    h = await startHarness();
    const { Metrics } = await import("../../src/metrics.ts");
    const metrics = new Metrics();
    expect(metrics.operationLabel(null)).toBe("anonymous");
    expect(metrics.operationLabel("bad name!")).toBe("other");
    for (let i = 0; i < 200; i++) expect(metrics.operationLabel(`Op${i}`)).toBe(`Op${i}`);
    expect(metrics.operationLabel("OneTooMany")).toBe("other");
    expect(metrics.operationLabel("Op7")).toBe("Op7");
  });
});

describe("request logs", () => {
  it("carry the incoming x-request-id, operation, duration and upstream calls", async () => {
    h = await startHarness({ fake: { now: () => NOW } });
    const tokens = seedAlice(h.fake);
    await h.gql(MY_DEVICES, {}, tokens.alice); // versions and identity are cached after this
    const response = await fetch(`${h.url}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${tokens.alice}`,
        "x-request-id": "req-abc.123",
      },
      body: JSON.stringify({ query: MY_DEVICES }),
    });
    expect(response.headers.get("x-request-id")).toBe("req-abc.123");
    await response.json();
    const line = h.logs.map((l) => JSON.parse(l)).find((l) => l.requestId === "req-abc.123");
    expect(line).toMatchObject({
      level: 30,
      requestId: "req-abc.123",
      operation: "MyDevices",
      status: 200,
      upstreamCalls: 1,
      msg: "POST /graphql 200",
    });
    expect(line.ms).toEqual(expect.any(Number));
  });

  it("replace an unusable x-request-id with a fresh one", async () => {
    h = await startHarness();
    const response = await fetch(`${h.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "bad id with spaces" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

const SECRET_KEYS = new Set(["authorization", "access_token", "password", "auth", "token"]);

/** Every key that names a secret anywhere in a log object must hold the censor, nothing else. */
function unredacted(value: unknown, path = ""): string[] {
  if (typeof value !== "object" || value === null) return [];
  const found: string[] = [];
  for (const [key, inner] of Object.entries(value)) {
    if (SECRET_KEYS.has(key.toLowerCase()) && inner !== "[REDACTED]") found.push(`${path}${key}`);
    found.push(...unredacted(inner, `${path}${key}.`));
  }
  return found;
}

describe("redaction", () => {
  it("no captured line holds a token, a password or an auth dict", async () => {
    h = await startHarness({ fake: { now: () => NOW } });
    const tokens = seedAlice(h.fake);
    const DELETE = `mutation($auth: AuthInput) { deleteDevice(deviceId: "LAPTOP", auth: $auth) {
      __typename ... on AuthRequired { session } } }`;
    const first = await h.gql(DELETE, {}, tokens.alice);
    const session = first.body.data.deleteDevice.session;
    const extra = { secret_stage_token: "stage-secret-777" };
    await h.gql(
      DELETE,
      { auth: { type: "m.login.password", session, password: "wrong-pass-123", extra } },
      tokens.alice,
    );
    await h.gql(
      DELETE,
      { auth: { type: "m.login.password", session, password: ALICE_PASSWORD } },
      tokens.alice,
    );
    await h.gql(MY_DEVICES, {}, "unknown-token-xyz");
    h.fake.inject({ kind: "status", status: 500 }, { match: /\/devices$/ });
    await h.gql(MY_DEVICES, {}, tokens.alice);
    // The shared logger itself, handed objects shaped like what a careless caller might log.
    const captured: string[] = [];
    const logger = createLogger(
      "trace",
      new Writable({
        write(chunk, _e, done) {
          captured.push(String(chunk).trim());
          done();
        },
      }),
    );
    logger.info({ headers: { authorization: `Bearer ${tokens.alice}` } }, "headers");
    logger.info({ req: { headers: { authorization: `Bearer ${tokens.alice}` } } }, "nested");
    logger.info({ body: { auth: { password: ALICE_PASSWORD }, access_token: tokens.bob } }, "b");
    logger.info({ password: ALICE_PASSWORD, token: tokens.laptop }, "flat");

    const lines = [...h.logs, ...captured];
    expect(lines.length).toBeGreaterThan(20);
    const secrets = [
      tokens.alice,
      tokens.bob,
      tokens.laptop,
      "unknown-token-xyz",
      "wrong-pass-123",
      "stage-secret-777",
      ALICE_PASSWORD,
    ];
    for (const line of lines) {
      for (const secret of secrets) expect(line).not.toContain(secret);
      expect(unredacted(JSON.parse(line))).toEqual([]);
    }
  });
});
