import { describe, expect, it } from "vitest";
import { backoffMs, CircuitBreaker } from "../../../src/homeserver/resilience.ts";

describe("CircuitBreaker", () => {
  it("opens at the threshold, fails fast during the cooldown, lets one probe through", () => {
    let now = 0;
    const changes: string[] = [];
    const breaker = new CircuitBreaker({
      failureThreshold: 3,
      cooldownMs: 1000,
      now: () => now,
      onChange: (state) => changes.push(state),
    });
    breaker.failure();
    breaker.failure();
    breaker.success(); // an answer resets the count
    breaker.failure();
    breaker.failure();
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe("open");
    expect(breaker.tryAcquire()).toBe(false);
    now = 999;
    expect(breaker.tryAcquire()).toBe(false);
    now = 1000;
    expect(breaker.state).toBe("half-open");
    expect(breaker.tryAcquire()).toBe(true); // the probe
    expect(breaker.tryAcquire()).toBe(false); // only one
    breaker.failure(); // the probe failed: open again, a fresh cooldown
    expect(breaker.state).toBe("open");
    now = 2000;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.success();
    expect(breaker.state).toBe("closed");
    expect(changes).toEqual(["open", "half-open", "open", "half-open", "closed"]);
  });

  it("frees the probe slot when the probe is cancelled", () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 10, now: () => now });
    breaker.failure();
    now = 10;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.release();
    expect(breaker.tryAcquire()).toBe(true);
  });
});

describe("backoffMs", () => {
  it("stays within the exponential cap (full jitter)", () => {
    for (let attempt = 0; attempt < 8; attempt++) {
      for (let i = 0; i < 50; i++) {
        const wait = backoffMs(attempt, 50, 1000);
        expect(wait).toBeGreaterThanOrEqual(0);
        expect(wait).toBeLessThan(Math.min(1000, 50 * 2 ** attempt));
      }
    }
  });
});
