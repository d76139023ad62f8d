import DataLoader from "dataloader";
import type { Logger } from "pino";
import type { Whoami } from "../homeserver/client-server.ts";
import type { CachedDevice, DeviceCache, ObservedTimes, Sighting } from "./device-cache.ts";
import type { InactivePage, InactivePageQuery } from "./inactive-page.ts";

/** Why an answer came from the cache, and how fresh the cache was (`extensions.stale`). */
export interface StaleMark {
  reason: string;
  cachedAt: Date | null;
}

const sep = "\u0000";

/** A cache read that takes longer gives up: a live answer never waits long for the database. */
const READ_TIMEOUT_MS = 1_000;

function withTimeout<T>(read: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error("cache read timed out")), READ_TIMEOUT_MS);
  });
  return Promise.race([read, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One request's view of the last-seen cache: batched reads (one query per kind per tick) and the
 * request's stale mark. Every read takes the user id the caller's token resolved to.
 */
export class RequestCache {
  private mark: StaleMark | null = null;
  private readonly observedLoader: DataLoader<string, ObservedTimes | null>;
  private readonly historyLoaders = new Map<number, DataLoader<string, Sighting[]>>();

  constructor(
    private readonly reads: DeviceCache,
    /** The token's identity if remembered within STALE_IDENTITY_TTL_S (by its hash), or null. */
    private readonly staleIdentity: () => Whoami | null,
    private readonly logger: Logger,
  ) {
    this.observedLoader = new DataLoader(async (keys) => {
      const byUser = groupByUser(keys);
      const found = new Map<string, ObservedTimes>();
      try {
        for (const [userId, deviceIds] of byUser) {
          for (const [deviceId, times] of await withTimeout(
            this.reads.observed(userId, deviceIds),
          )) {
            found.set(`${userId}${sep}${deviceId}`, times);
          }
        }
      } catch (error) {
        this.readFailed(error); // a live answer never fails for the cache: these fields go null
      }
      return keys.map((key) => found.get(key) ?? null);
    });
  }

  /** Who may read the cache during an outage: the remembered identity of this token, or null. */
  staleViewer(): Whoami | null {
    return this.staleIdentity();
  }

  get stale(): StaleMark | null {
    return this.mark;
  }

  /** Marks this answer as served from the cache; the oldest `cachedAt` of its fields wins. */
  markStale(reason: string, cachedAt: Date | null): void {
    if (this.mark === null) {
      this.mark = { reason, cachedAt };
    } else if (
      cachedAt !== null &&
      (this.mark.cachedAt === null || cachedAt < this.mark.cachedAt)
    ) {
      this.mark = { reason: this.mark.reason, cachedAt };
    }
  }

  list(userId: string): Promise<CachedDevice[]> {
    return withTimeout(this.reads.list(userId));
  }

  /** Every user's inactive devices (callers have proven the viewer is an admin). */
  inactiveAcrossUsers(query: InactivePageQuery): Promise<InactivePage> {
    return withTimeout(this.reads.inactiveAcrossUsers(query));
  }

  get(userId: string, deviceId: string): Promise<CachedDevice | null> {
    return withTimeout(this.reads.get(userId, deviceId));
  }

  observed(userId: string, deviceId: string): Promise<ObservedTimes | null> {
    return this.observedLoader.load(`${userId}${sep}${deviceId}`);
  }

  /** The device's newest `limit` sightings; every device asked in one tick costs one query. */
  history(userId: string, deviceId: string, limit: number): Promise<Sighting[]> {
    let loader = this.historyLoaders.get(limit);
    if (loader === undefined) {
      loader = new DataLoader(async (keys) => {
        const found = new Map<string, Sighting[]>();
        try {
          for (const [user, deviceIds] of groupByUser(keys)) {
            const history = await withTimeout(this.reads.history(user, deviceIds, limit));
            for (const [id, sightings] of history) {
              found.set(`${user}${sep}${id}`, sightings);
            }
          }
        } catch (error) {
          this.readFailed(error);
        }
        return keys.map((key) => found.get(key) ?? []);
      });
      this.historyLoaders.set(limit, loader);
    }
    return loader.load(`${userId}${sep}${deviceId}`);
  }

  private readFailed(error: unknown): void {
    this.logger.warn({ err: { message: (error as Error).message } }, "last-seen cache read failed");
  }
}

function groupByUser(keys: readonly string[]): Map<string, string[]> {
  const byUser = new Map<string, string[]>();
  for (const key of keys) {
    const at = key.indexOf(sep);
    const userId = key.slice(0, at);
    byUser.set(userId, [...(byUser.get(userId) ?? []), key.slice(at + 1)]);
  }
  return byUser;
}
