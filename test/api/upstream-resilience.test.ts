import { afterEach, describe, expect, it } from "vitest";
import { ALICE_PASSWORD, NOW, seedAlice, upstream } from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

let h: Harness | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

async function started(env: Record<string, string> = {}, now?: () => number) {
  h = await startHarness({ fake: { now: () => NOW }, env, gateway: now ? { now } : {} });
  return { h, tokens: seedAlice(h.fake) };
}

const DEVICES = "{ devices { deviceId } }";
const RENAME = `mutation($id: ID!, $name: String!) { renameDevice(deviceId: $id, displayName: $name) {
  __typename ... on DeviceRenamed { device { displayName } } ... on RateLimited { retryAfterMs } } }`;

describe("idempotent calls retry", () => {
  it("retries a GET through a 502/503/504 burst and answers", async () => {
    const { h, tokens } = await started();
    h.fake.inject({ kind: "status", status: 503 }, { match: /\/devices$/, times: 1 });
    h.fake.inject({ kind: "status", status: 504 }, { match: /\/devices$/, times: 1 });
    const { body } = await h.gql(DEVICES, {}, tokens.alice);
    expect(body.errors).toBeUndefined();
    expect(body.data.devices).toHaveLength(5);
    expect(upstream(h.fake, "GET", "/devices").map((r) => r.status)).toEqual([503, 504, 200]);
  });

  it("gives up after two retries: UPSTREAM_UNAVAILABLE after exactly three attempts", async () => {
    const { h, tokens } = await started();
    h.fake.inject({ kind: "status", status: 502 }, { match: /\/devices$/, times: 10 });
    const { body } = await h.gql(DEVICES, {}, tokens.alice);
    expect(body.errors[0].extensions).toEqual({ code: "UPSTREAM_UNAVAILABLE" });
    expect(upstream(h.fake, "GET", "/devices")).toHaveLength(3);
  });

  it("retries a GET after a connection reset", async () => {
    const { h, tokens } = await started();
    h.fake.inject({ kind: "reset" }, { match: /\/devices$/ });
    const { body } = await h.gql(DEVICES, {}, tokens.alice);
    expect(body.errors).toBeUndefined();
    expect(upstream(h.fake, "GET", "/devices")).toHaveLength(2);
  });

  it("retries a PUT (rename is idempotent)", async () => {
    const { h, tokens } = await started();
    h.fake.inject({ kind: "status", status: 502 }, { match: "/devices/LAPTOP", method: "PUT" });
    const { body } = await h.gql(RENAME, { id: "LAPTOP", name: "Work laptop" }, tokens.alice);
    expect(body.data.renameDevice).toEqual({
      __typename: "DeviceRenamed",
      device: { displayName: "Work laptop" },
    });
    expect(upstream(h.fake, "PUT", "/devices/LAPTOP")).toHaveLength(2);
  });

  it("never retries a DELETE", async () => {
    const { h, tokens } = await started();
    h.fake.inject({ kind: "status", status: 503 }, { match: "/devices/LAPTOP", method: "DELETE" });
    const { body } = await h.gql(
      `mutation($auth: AuthInput) { deleteDevice(deviceId: "LAPTOP", auth: $auth) { __typename } }`,
      { auth: { type: "m.login.password", password: ALICE_PASSWORD } },
      tokens.alice,
    );
    expect(body.errors[0].extensions).toEqual({ code: "UPSTREAM_UNAVAILABLE" });
    expect(upstream(h.fake, "DELETE", "/devices/LAPTOP")).toHaveLength(1);
  });

  it("never retries a POST", async () => {
    const { h, tokens } = await started();
    h.fake.inject({ kind: "reset" }, { match: "/delete_devices" });
    const { body } = await h.gql(
      `mutation { deleteDevices(deviceIds: ["LAPTOP"]) { __typename } }`,
      {},
      tokens.alice,
    );
    expect(body.errors[0].extensions).toEqual({ code: "UPSTREAM_UNAVAILABLE" });
    expect(upstream(h.fake, "POST", "/delete_devices")).toHaveLength(1);
  });

  it("does not retry a timeout: one attempt, UPSTREAM_TIMEOUT", async () => {
    const { h, tokens } = await started({ UPSTREAM_TIMEOUT_MS: "200" });
    h.fake.inject({ kind: "hang" }, { match: /\/devices$/ });
    const { body } = await h.gql(DEVICES, {}, tokens.alice);
    expect(body.errors[0].extensions).toEqual({ code: "UPSTREAM_TIMEOUT" });
    expect(upstream(h.fake, "GET", "/devices")).toHaveLength(1);
  });
});

describe("429", () => {
  it("sits out a short wait (body form) and retries once", async () => {
    const { h, tokens } = await started();
    h.fake.inject({ kind: "rateLimit", retryAfterMs: 50, header: false }, { match: /\/devices$/ });
    const { body } = await h.gql(DEVICES, {}, tokens.alice);
    expect(body.errors).toBeUndefined();
    expect(upstream(h.fake, "GET", "/devices").map((r) => r.status)).toEqual([429, 200]);
  });

  it("sits out a short Retry-After (header form) when the configured wait allows it", async () => {
    const { h, tokens } = await started({ RATE_LIMIT_MAX_WAIT_MS: "1000" });
    h.fake.inject({ kind: "rateLimit", retryAfterMs: 1000, header: true }, { match: "LAPTOP" });
    const { body } = await h.gql(RENAME, { id: "LAPTOP", name: "x" }, tokens.alice);
    expect(body.data.renameDevice.__typename).toBe("DeviceRenamed");
    expect(upstream(h.fake, "PUT", "/devices/LAPTOP").map((r) => r.status)).toEqual([429, 200]);
  });

  it("retries only once: a second 429 is RATE_LIMITED", async () => {
    const { h, tokens } = await started();
    h.fake.inject(
      { kind: "rateLimit", retryAfterMs: 20, header: false },
      { match: /\/devices$/, times: 2 },
    );
    const { body } = await h.gql(DEVICES, {}, tokens.alice);
    expect(body.errors[0].extensions).toEqual({ code: "RATE_LIMITED", retryAfterMs: 20 });
    expect(upstream(h.fake, "GET", "/devices")).toHaveLength(2);
  });

  it("hands a long wait to the caller without waiting", async () => {
    const { h, tokens } = await started();
    h.fake.inject({ kind: "rateLimit", retryAfterMs: 60_000, header: true }, { match: "LAPTOP" });
    const { body } = await h.gql(RENAME, { id: "LAPTOP", name: "x" }, tokens.alice);
    expect(body.data.renameDevice).toEqual({ __typename: "RateLimited", retryAfterMs: 60_000 });
    expect(upstream(h.fake, "PUT", "/devices/LAPTOP")).toHaveLength(1);
  });
});

describe("circuit breaker", () => {
  it("opens after repeated failures, fails fast, shows in /readyz, closes after a good probe", async () => {
    let now = NOW;
    const { h, tokens } = await started(
      { BREAKER_FAILURE_THRESHOLD: "2", BREAKER_COOLDOWN_MS: "5000", UPSTREAM_RETRIES: "0" },
      () => now,
    );
    expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
    await h.gql(DEVICES, {}, tokens.alice); // identity and versions known: only /devices fails
    h.fake.inject({ kind: "status", status: 503 }, { match: /\/devices$/, times: 2 });
    for (let i = 0; i < 2; i++) {
      const { body } = await h.gql(DEVICES, {}, tokens.alice);
      expect(body.errors[0].extensions).toEqual({ code: "UPSTREAM_UNAVAILABLE" });
    }
    h.fake.clearLog();
    const { body } = await h.gql(DEVICES, {}, tokens.alice);
    expect(body.errors[0].extensions).toEqual({ code: "UPSTREAM_UNAVAILABLE" });
    expect(h.fake.requests).toEqual([]); // not even tried
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({
      status: "unavailable",
      checks: { homeserver: "circuit breaker open" },
    });
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain("gateway_upstream_breaker_open 1");

    now += 5000; // cooldown over: one probe may go, and it succeeds
    const after = await h.gql(DEVICES, {}, tokens.alice);
    expect(after.body.errors).toBeUndefined();
    expect(h.gateway.breaker.state).toBe("closed");
    expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
  });
});

describe("connection refused", () => {
  it("answers UPSTREAM_UNAVAILABLE without retrying a refusal", async () => {
    const { h, tokens } = await started();
    await h.gql(DEVICES, {}, tokens.alice); // versions and whoami are known now
    await h.fake.stop();
    const { body } = await h.gql(
      '{ d: device(deviceId: "LAPTOP") { deviceId } }',
      {},
      tokens.alice,
    );
    expect(body.errors[0].extensions).toEqual({ code: "UPSTREAM_UNAVAILABLE" });
    const text = h.logs.join("\n");
    expect(text.match(/--> GET \/_matrix\/client\/v3\/devices\/\{deviceId\}/g)).toHaveLength(1);
  });
});
