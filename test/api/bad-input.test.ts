import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOW, seedAlice } from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

let h: Harness;
let token: string;

beforeAll(async () => {
  h = await startHarness({ fake: { now: () => NOW }, env: { BODY_LIMIT_BYTES: "4096" } });
  token = seedAlice(h.fake).alice;
});
afterAll(() => h.stop());

async function post(body: string, contentType = "application/json", accept?: string) {
  const headers: Record<string, string> = {
    "content-type": contentType,
    authorization: `Bearer ${token}`,
  };
  if (accept) headers.accept = accept;
  const response = await fetch(`${h.url}/graphql`, { method: "POST", headers, body });
  const text = await response.text();
  return { status: response.status, text };
}

describe("bad input", () => {
  it("answers malformed GraphQL with a syntax error, no stack", async () => {
    // GraphQL-over-HTTP: legacy application/json answers keep 200 with errors...
    const json = await post(
      JSON.stringify({ query: "{ devices { " }),
      "application/json",
      "application/json",
    );
    expect(json.status).toBe(200);
    expect(JSON.parse(json.text).errors[0].message).toMatch(/^Syntax Error/);
    expect(json.text).not.toMatch(/at .*\.(ts|js):\d+/);
    // ...while the graphql-response+json media type makes parse and validation failures 400s.
    const parse = await post(
      JSON.stringify({ query: "{ devices { " }),
      "application/json",
      "application/graphql-response+json",
    );
    expect(parse.status).toBe(400);
    const modern = await post(
      JSON.stringify({ query: "{ devices { nope } }" }),
      "application/json",
      "application/graphql-response+json",
    );
    expect(modern.status).toBe(400);
    expect(JSON.parse(modern.text).errors[0].message).toContain('Cannot query field "nope"');
  });

  it("answers a wrong variable type with a validation error", async () => {
    const { status, text } = await post(
      JSON.stringify({
        query: "query($id: ID!) { device(deviceId: $id) { deviceId } }",
        variables: { id: { not: "an id" } },
      }),
    );
    expect(status).toBe(400);
    expect(JSON.parse(text).errors[0].message).toContain("$id");
  });

  it("refuses a body that is not JSON", async () => {
    const { status, text } = await post("{not json");
    expect(status).toBe(400);
    expect(JSON.parse(text).errors[0].message).toMatch(/JSON/i);
  });

  it("refuses an unsupported content type", async () => {
    const { status } = await post("query=%7Bdevices%7BdeviceId%7D%7D", "text/plain");
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
  });

  it("refuses a body over BODY_LIMIT_BYTES with 413, and keeps serving", async () => {
    const big = JSON.stringify({ query: `{ devices { deviceId } } # ${"x".repeat(5000)}` });
    const { status } = await post(big);
    expect(status).toBe(413);
    const ok = await post(JSON.stringify({ query: "{ devices { deviceId } }" }));
    expect(ok.status).toBe(200);
  });

  it("never runs a mutation over GET", async () => {
    const query = encodeURIComponent(
      'mutation { renameDevice(deviceId: "LAPTOP", displayName: "x") { __typename } }',
    );
    const response = await fetch(`${h.url}/graphql?query=${query}`, {
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
    });
    expect(response.status).toBe(405);
    expect(
      h.fake.devicesOf("@alice:localhost").find((d) => d.deviceId === "LAPTOP")?.displayName,
    ).toBe("Laptop");
  });

  it("serves queries over GET to clients and GraphiQL to browsers", async () => {
    const query = encodeURIComponent("{ viewer { userId } }");
    const api = await fetch(`${h.url}/graphql?query=${query}`, {
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
    });
    expect(await api.json()).toEqual({ data: { viewer: { userId: "@alice:localhost" } } });
    const page = await fetch(`${h.url}/graphql`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>matrix-device-gateway</title>");
  });
});
