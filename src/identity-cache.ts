import { createHash } from "node:crypto";
import type { Whoami } from "./homeserver/client-server.ts";

interface Entry {
  whoami: Whoami;
  fetchedAt: number;
}

export interface IdentityCacheOptions {
  /** How long a whoami answer is reused without asking again. */
  ttlMs: number;
  /** How long it may still vouch for a token while the homeserver is down. */
  staleTtlMs: number;
  maxEntries?: number;
  now?: () => number;
}

/** SHA-256 of a token: the only form in which a token is ever kept. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/**
 * Who each token belongs to, remembered briefly under the token's hash (never the token itself),
 * so a dashboard's polling costs one whoami per TTL rather than one per request.
 */
export class IdentityCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly options: IdentityCacheOptions) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** A fresh answer for this token, or null. */
  fresh(hash: string): Whoami | null {
    return this.within(hash, this.options.ttlMs);
  }

  /** An answer young enough to vouch for the token during an outage, or null. */
  stale(hash: string): Whoami | null {
    return this.within(hash, Math.max(this.options.ttlMs, this.options.staleTtlMs));
  }

  remember(hash: string, whoami: Whoami): void {
    this.entries.delete(hash);
    this.entries.set(hash, { whoami, fetchedAt: this.now() });
    // Map keeps insertion order: the first key is the least recently fetched.
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** Forget a token at once (the homeserver said M_UNKNOWN_TOKEN, or its device was deleted). */
  forget(hash: string): void {
    this.entries.delete(hash);
  }

  private within(hash: string, ttlMs: number): Whoami | null {
    const entry = this.entries.get(hash);
    if (entry === undefined) return null;
    if (this.now() - entry.fetchedAt >= ttlMs) {
      if (this.now() - entry.fetchedAt >= Math.max(this.options.ttlMs, this.options.staleTtlMs)) {
        this.entries.delete(hash);
      }
      return null;
    }
    return entry.whoami;
  }
}
