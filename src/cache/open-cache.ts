import type { Logger } from "pino";
import { type CachePrisma, type DatabaseTarget, openPrisma, parseDatabaseUrl } from "./database.ts";
import { DeviceCache } from "./device-cache.ts";
import { LastSeenStore, type LastSeenStoreOptions } from "./last-seen-store.ts";
import { migrate } from "./migrate.ts";

/** The last-seen cache as the gateway uses it: write queue, reads, retention timer. */
export interface CacheServices {
  target: DatabaseTarget;
  prisma: CachePrisma;
  store: LastSeenStore;
  reads: DeviceCache;
  /** Runs the retention purge now (also at start and on a timer). */
  purge(): Promise<void>;
  /** Resolves when the database takes a write (a no-op UPDATE needs the write lock); /readyz. */
  writable(): Promise<void>;
  /** Flushes the write queue, stops the timers, disconnects. */
  close(): Promise<void>;
}

export interface OpenCacheOptions {
  databaseUrl: string;
  retentionDays: number;
  logger: Logger;
  now?: () => number;
  flushIntervalMs?: number;
  maxQueue?: number;
  /** How often the retention purge runs (ms). */
  purgeIntervalMs?: number;
  store?: Partial<LastSeenStoreOptions>;
}

const DAY_MS = 86_400_000;

/**
 * Migrates the database, then opens the cache over it. Throws a one-line `DatabaseError` for a
 * bad, unreachable or foreign database.
 */
export async function openCache(options: OpenCacheOptions): Promise<CacheServices> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const target = parseDatabaseUrl(options.databaseUrl);
  const result = await migrate(target);
  if (result.applied.length > 0) {
    logger.info({ applied: result.applied, database: target.kind }, "database migrated");
  }
  // No busy wait: better-sqlite3 waits synchronously, which would stall every answer; a locked
  // file fails the batch at once instead, and the queue retries it on the next tick.
  const prisma = await openPrisma(target, { busyTimeoutMs: 0 });
  const store = new LastSeenStore({
    prisma,
    logger: logger.child({ component: "last-seen-cache" }),
    now,
    flushIntervalMs: options.flushIntervalMs,
    maxQueue: options.maxQueue,
    ...options.store,
  });
  const reads = new DeviceCache(prisma, store, target.kind);
  const purge = async () => {
    try {
      const purged = await reads.purge(new Date(now() - options.retentionDays * DAY_MS));
      if (purged.sightings + purged.devices > 0) logger.info({ purged }, "retention purge");
    } catch (error) {
      logger.warn({ err: { message: (error as Error).message } }, "retention purge failed");
    }
  };
  await purge();
  const timer = setInterval(() => void purge(), options.purgeIntervalMs ?? 3_600_000);
  timer.unref();
  return {
    target,
    prisma,
    store,
    reads,
    purge,
    async writable() {
      await prisma.$executeRawUnsafe('UPDATE "_gateway_migrations" SET name = name WHERE 1 = 0');
    },
    async close() {
      clearInterval(timer);
      await store.close();
      logger.info({ stats: store.stats() }, "last-seen cache closed");
      await prisma.$disconnect();
    },
  };
}
