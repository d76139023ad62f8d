import { serverAudits } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

/**
 * The GraphQL-over-HTTP spec's server audits (graphql-http), run against the real gateway.
 * Every MUST passes. The audits are a browser-less client, so they identify themselves with the
 * CSRF header (any non-browser client may; a browser cannot without a preflight).
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.stop());

const fetchWithCsrfHeader: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  headers.set("x-graphql-yoga-csrf", "graphql-http audits");
  return fetch(input, { ...init, headers });
};

describe("graphql-http server audits", () => {
  const audits = serverAudits({
    url: () => `${h.url}/graphql`,
    fetchFn: fetchWithCsrfHeader,
  });
  it("has MUST audits to run", () => {
    expect(audits.filter((a) => a.name.startsWith("MUST")).length).toBeGreaterThan(10);
  });
  for (const audit of audits.filter((a) => a.name.startsWith("MUST"))) {
    it(audit.name, async () => {
      const result = await audit.fn();
      if (result.status !== "ok") throw new Error(`${result.reason}\n${JSON.stringify(result)}`);
    });
  }
});
