import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOW, seedAlice } from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

let h: Harness;
let token: string;

beforeAll(async () => {
  h = await startHarness({ fake: { now: () => NOW } });
  token = seedAlice(h.fake).alice;
});
afterAll(() => h.stop());

const FIELDS = "deviceId userId displayName lastSeenIp lastSeenTs lastSeenAt isCurrent";

function lookups(n: number, fields = FIELDS): string {
  const ids = ["PHONE", "LAPTOP", "UNUSED"];
  return Array.from(
    { length: n },
    (_, i) => `d${i}: device(deviceId: "${ids[i % ids.length]}") { ${fields} }`,
  ).join("\n");
}

describe("query limits (GraphQL Armor)", () => {
  it("lets an honest dashboard ask for 50 aliased device lookups, in one upstream call", async () => {
    h.fake.clearLog();
    const { body } = await h.gql(`query Dashboard { ${lookups(50)} }`, {}, token);
    expect(body.errors).toBeUndefined();
    expect(Object.keys(body.data)).toHaveLength(50);
    expect(body.data.d1.deviceId).toBe("LAPTOP");
    expect(h.fake.requests.filter((r) => r.path.includes("/devices"))).toHaveLength(1);
  });

  it("lets 100 aliased lookups with every field and the devices list through", async () => {
    const { body } = await h.gql(
      `{ viewer { userId deviceId devices { ${FIELDS} } } devices { ${FIELDS} } ${lookups(98)} }`,
      {},
      token,
    );
    expect(body.errors).toBeUndefined();
  });

  it("refuses more aliases than MAX_ALIASES with BAD_USER_INPUT, calling nobody", async () => {
    h.fake.clearLog();
    const { status, body } = await h.gql(`{ ${lookups(101, "deviceId")} }`, {}, token);
    expect(status).toBe(200);
    expect(body).toEqual({
      errors: [
        {
          message: "Syntax Error: Aliases limit of 100 exceeded, found 101.",
          extensions: { code: "BAD_USER_INPUT", limit: "aliases" },
        },
      ],
    });
    expect(h.fake.requests).toEqual([]);
  });

  it("stops thousands of aliases at the token limit, before parsing them all", async () => {
    const { body } = await h.gql(`{ ${lookups(3000, "deviceId")} }`, {}, token);
    expect(body.errors).toEqual([
      expect.objectContaining({
        message: "Syntax Error: Token limit of 5000 exceeded.",
        extensions: expect.objectContaining({ code: "BAD_USER_INPUT", limit: "tokens" }),
      }),
    ]);
  });

  it("refuses a query deeper than MAX_DEPTH", async () => {
    let selection = "name";
    for (let i = 0; i < 12; i++) selection = `ofType { ${selection} }`;
    const { body } = await h.gql(`{ __type(name: "Device") { fields { type { ${selection} } } } }`);
    expect(body.errors).toEqual([
      expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", limit: "depth" } }),
    ]);
  });

  it("refuses more directives than MAX_DIRECTIVES", async () => {
    const directives = " @include(if: true)".repeat(51);
    const { body } = await h.gql(`{ viewer { userId${directives} } }`, {}, token);
    expect(body.errors).toEqual([
      expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", limit: "directives" } }),
    ]);
  });

  it("refuses an operation costing more than MAX_COST", async () => {
    const local = await startHarness({ env: { MAX_COST: "50" } });
    try {
      const { body } = await local.gql(`{ ${lookups(10)} }`, {}, "any-token");
      expect(body.errors).toEqual([
        expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", limit: "cost" } }),
      ]);
      expect(local.fake.requests).toEqual([]);
    } finally {
      await local.stop();
    }
  });

  it("lets GraphiQL's introspection query through while INTROSPECTION is on", async () => {
    const { getIntrospectionQuery } = await import("graphql");
    const { body } = await h.gql(getIntrospectionQuery());
    expect(body.errors).toBeUndefined();
    expect(body.data.__schema.queryType.name).toBe("Query");
  });

  it("suggests field names while introspection is on", async () => {
    const { body } = await h.gql("{ devicez { deviceId } }", {}, token);
    expect(body.errors[0].message).toContain('Did you mean "device" or "devices"?');
  });
});

describe("production settings: INTROSPECTION=off, GRAPHIQL=off", () => {
  let prod: Harness;
  beforeAll(async () => {
    prod = await startHarness({ env: { INTROSPECTION: "off", GRAPHIQL: "off" } });
  });
  afterAll(() => prod.stop());

  it("refuses introspection", async () => {
    const { body } = await prod.gql("{ __schema { types { name } } }");
    expect(body.data).toBeUndefined();
    expect(body.errors[0].message).toMatch(/introspection/i);
  });

  it("blocks field suggestions", async () => {
    const { body } = await prod.gql("{ devicez { deviceId } }", {}, "t");
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].message).not.toContain("Did you mean");
    expect(body.errors[0].message).not.toContain("devices");
  });

  it("serves no GraphiQL page", async () => {
    const page = await fetch(`${prod.url}/graphql`, { headers: { accept: "text/html" } });
    expect(page.headers.get("content-type") ?? "").not.toContain("text/html");
  });
});
