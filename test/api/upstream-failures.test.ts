import { afterEach, describe, expect, it } from "vitest";
import { NOW, seedAlice } from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

let h: Harness | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

async function started(env: Record<string, string> = {}) {
  h = await startHarness({ fake: { now: () => NOW }, env });
  return { h, tokens: seedAlice(h.fake) };
}

describe("homeserver failures", () => {
  it("answers UPSTREAM_UNAVAILABLE when the homeserver is down", async () => {
    const { h, tokens } = await started();
    await h.fake.stop();
    const { status, body } = await h.gql("{ devices { deviceId } }", {}, tokens.alice);
    expect(status).toBe(200);
    expect(body.errors).toEqual([
      {
        message: "The homeserver is unreachable",
        path: ["devices"],
        locations: expect.any(Array),
        extensions: { code: "UPSTREAM_UNAVAILABLE" },
      },
    ]);
  });

  it("answers UPSTREAM_TIMEOUT when the homeserver hangs, and stays responsive", async () => {
    const { h, tokens } = await started({ UPSTREAM_TIMEOUT_MS: "300" });
    h.fake.inject({ kind: "hang" }, { match: /\/devices$/ });
    const { body } = await h.gql("{ devices { deviceId } }", {}, tokens.alice);
    expect(body.errors[0].extensions).toEqual({ code: "UPSTREAM_TIMEOUT" });
    const health = await fetch(`${h.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it("treats a 502 from a proxy in front of the homeserver as unavailable", async () => {
    const { h, tokens } = await started();
    h.fake.inject({ kind: "status", status: 502 }, { match: /\/devices$/, times: 3 });
    const { body } = await h.gql("{ devices { deviceId } }", {}, tokens.alice);
    expect(body.errors[0].extensions).toEqual({ code: "UPSTREAM_UNAVAILABLE" });
  });

  it("masks an unexpected upstream answer: no stack, no upstream body", async () => {
    const { h, tokens } = await started();
    h.fake.inject(
      { kind: "status", status: 500, errcode: "M_UNKNOWN", error: "secret internal detail" },
      { match: /\/devices$/ },
    );
    const { body } = await h.gql("{ devices { deviceId } }", {}, tokens.alice);
    expect(body.errors).toEqual([
      {
        message: "Unexpected error.",
        path: ["devices"],
        locations: expect.any(Array),
        extensions: { code: "INTERNAL_SERVER_ERROR" },
      },
    ]);
    expect(JSON.stringify(body)).not.toContain("secret internal detail");
  });

  it("uses /r0 paths when the homeserver offers nothing from v1.1", async () => {
    h = await startHarness({ fake: { now: () => NOW, versions: ["r0.5.0", "r0.6.1"] } });
    const tokens = seedAlice(h.fake);
    const { body } = await h.gql("{ devices { deviceId } }", {}, tokens.alice);
    expect(body.errors).toBeUndefined();
    expect(h.fake.requests.map((r) => r.path)).toContain("/_matrix/client/r0/devices");
  });
});
