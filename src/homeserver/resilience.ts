/**
 * How the homeserver client survives a homeserver that misbehaves: a circuit breaker that stops
 * hammering a server that keeps failing, and full-jitter backoff between retries (the AWS
 * architecture blog's "Exponential Backoff And Jitter").
 */

export type BreakerState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long it stays open before one probe call may go through. */
  cooldownMs: number;
  now?: () => number;
  /** Called on every state change (metrics, logs). */
  onChange?: (state: BreakerState) => void;
}

/**
 * Closed: calls go through, consecutive failures are counted. At `failureThreshold` it opens:
 * calls fail fast for `cooldownMs`. Then half-open: exactly one call goes through; its success
 * closes the breaker, its failure opens it again for another cooldown.
 */
export class CircuitBreaker {
  #state: BreakerState = "closed";
  #failures = 0;
  #openedAt = 0;
  #probing = false;
  readonly #now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.#now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.#state === "open" && this.#now() - this.#openedAt >= this.options.cooldownMs) {
      return "half-open";
    }
    return this.#state;
  }

  /** Whether a call may go now; a true in half-open reserves the single probe. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.#probing) return false;
    this.#probing = true;
    this.#set("half-open");
    return true;
  }

  /** The homeserver answered (any HTTP answer that is not a gateway-type 5xx counts). */
  success(): void {
    this.#failures = 0;
    this.#probing = false;
    if (this.#state !== "closed") this.#set("closed");
  }

  /** The homeserver was unreachable, timed out or answered 502/503/504. */
  failure(): void {
    this.#failures += 1;
    const wasProbe = this.#probing;
    this.#probing = false;
    if (wasProbe || this.#failures >= this.options.failureThreshold) {
      this.#openedAt = this.#now();
      this.#set("open");
    }
  }

  /** A call that went through but was cancelled before an outcome (neither success nor failure). */
  release(): void {
    this.#probing = false;
  }

  #set(state: BreakerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.options.onChange?.(state);
  }
}

/** Full jitter: a random wait in [0, min(cap, base * 2^attempt)). */
export function backoffMs(attempt: number, baseMs = 50, capMs = 1_000): number {
  return Math.floor(Math.random() * Math.min(capMs, baseMs * 2 ** attempt));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
