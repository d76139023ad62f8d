import { describe, expect, it } from "vitest";
import { IdentityCache, tokenHash } from "../../src/identity-cache.ts";

const WHO = { userId: "@a:x", deviceId: "D" };

describe("IdentityCache", () => {
  it("keys by SHA-256 of the token, never the token", () => {
    const hash = tokenHash("syt_secret");
    expect(hash).not.toContain("syt_secret");
    expect(hash).toBe(tokenHash("syt_secret"));
    expect(hash).not.toBe(tokenHash("syt_secret2"));
  });

  it("answers fresh within the TTL and stale within the stale TTL", () => {
    let now = 0;
    const cache = new IdentityCache({ ttlMs: 1000, staleTtlMs: 5000, now: () => now });
    cache.remember("h", WHO);
    now = 999;
    expect(cache.fresh("h")).toEqual(WHO);
    now = 1000;
    expect(cache.fresh("h")).toBeNull();
    expect(cache.stale("h")).toEqual(WHO);
    now = 5000;
    expect(cache.stale("h")).toBeNull();
  });

  it("forgets at once, and drops the oldest past its size", () => {
    const cache = new IdentityCache({ ttlMs: 1000, staleTtlMs: 1000, maxEntries: 2, now: () => 0 });
    cache.remember("a", WHO);
    cache.remember("b", WHO);
    cache.remember("c", WHO);
    expect(cache.fresh("a")).toBeNull();
    expect(cache.fresh("c")).toEqual(WHO);
    cache.forget("c");
    expect(cache.fresh("c")).toBeNull();
  });
});
