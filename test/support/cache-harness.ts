import { Writable } from "node:stream";
import {
  type CacheServices,
  type OpenCacheOptions,
  openCache,
} from "../../src/cache/open-cache.ts";
import { createLogger } from "../../src/logger.ts";
import { type Harness, type HarnessOptions, startHarness } from "./gateway-harness.ts";

/** A settable clock shared by the fake homeserver, the gateway and the cache. */
export interface Clock {
  now: () => number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function clock(start: number): Clock {
  let at = start;
  return {
    now: () => at,
    set: (ms) => {
      at = ms;
    },
    advance: (ms) => {
      at += ms;
    },
  };
}

export interface CachedHarness extends Harness {
  cache: CacheServices;
  /** The cache's own log lines (errors of the write path land here). */
  cacheLogs: string[];
}

/** The gateway harness with a last-seen cache on `databaseUrl` (migrated, like `npm start`). */
export async function startCachedHarness(
  databaseUrl: string,
  options: HarnessOptions & { now?: () => number; cache?: Partial<OpenCacheOptions> } = {},
): Promise<CachedHarness> {
  const cacheLogs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      cacheLogs.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  const cache = await openCache({
    databaseUrl,
    retentionDays: 90,
    logger: createLogger("trace", sink),
    now: options.now,
    // Tests flush explicitly; a long interval keeps the timer out of their way.
    flushIntervalMs: 60_000,
    ...options.cache,
  });
  const h = await startHarness({
    ...options,
    fake: { now: options.now, ...options.fake },
    gateway: { cache, now: options.now, ...options.gateway },
  });
  return {
    ...h,
    cache,
    cacheLogs,
    async stop() {
      await h.stop();
      await cache.close();
    },
  };
}
