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

const QUERY = JSON.stringify({ query: "{ devices { deviceId } }" });

describe("CSRF prevention", () => {
  it("refuses a browser's simple POST (text/plain, form) with 403 and calls nobody", async () => {
    h.fake.clearLog();
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded"]) {
      const response = await fetch(`${h.url}/graphql`, {
        method: "POST",
        headers: { "content-type": contentType },
        body: QUERY,
      });
      expect(response.status).toBe(403);
      expect((await response.json()).errors[0].message).toBe("Required CSRF header(s) not present");
    }
    expect(h.fake.requests).toEqual([]);
  });

  it("refuses a bare GET, serves one with a token or the CSRF header", async () => {
    const url = `${h.url}/graphql?query=${encodeURIComponent("{ __typename }")}`;
    expect((await fetch(url, { headers: { accept: "application/json" } })).status).toBe(403);
    const withHeader = await fetch(url, {
      headers: { accept: "application/json", "x-graphql-yoga-csrf": "1" },
    });
    expect(await withHeader.json()).toEqual({ data: { __typename: "Query" } });
    const withToken = await fetch(url, {
      headers: { accept: "application/json", authorization: `Bearer ${token}` },
    });
    expect(withToken.status).toBe(200);
  });
});

describe("CORS", () => {
  it("is off without CORS_ORIGINS: no allow-origin header, even on a preflight", async () => {
    const preflight = await fetch(`${h.url}/graphql`, {
      method: "OPTIONS",
      headers: {
        origin: "https://evil.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const post = await fetch(`${h.url}/graphql`, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/json" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(post.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("allows exactly the CORS_ORIGINS", async () => {
    const cors = await startHarness({ env: { CORS_ORIGINS: "https://admin.example.org" } });
    try {
      const ask = (origin: string) =>
        fetch(`${cors.url}/graphql`, {
          method: "OPTIONS",
          headers: {
            origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
          },
        });
      const allowed = await ask("https://admin.example.org");
      expect(allowed.headers.get("access-control-allow-origin")).toBe("https://admin.example.org");
      expect(allowed.headers.get("access-control-allow-headers")).toContain("authorization");
      const other = await ask("https://evil.example");
      expect(other.headers.get("access-control-allow-origin")).not.toBe("https://evil.example");
      expect(other.headers.get("access-control-allow-origin")).not.toBe("*");
    } finally {
      await cors.stop();
    }
  });
});

describe("security headers", () => {
  it("puts a strict CSP and anti-framing headers on the GraphiQL page", async () => {
    const page = await fetch(`${h.url}/graphql`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(page.headers.get("content-security-policy")).toContain("connect-src 'self'");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
  });

  it("sends nosniff on API answers too", async () => {
    const { headers } = await h.gql("{ __typename }");
    expect(headers.get("x-content-type-options")).toBe("nosniff");
  });
});
