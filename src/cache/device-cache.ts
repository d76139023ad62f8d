import { join } from "@prisma/client/runtime/client";
import type { CachePrisma, DatabaseKind } from "./database.ts";
import { type InactivePage, type InactivePageQuery, inactivePage } from "./inactive-page.ts";
import type { LastSeenStore } from "./last-seen-store.ts";

/** A device as the cache remembers it. */
export interface CachedDevice {
  userId: string;
  deviceId: string;
  displayName: string | null;
  lastSeenIp: string | null;
  lastSeenTs: number | null;
  lastSeenUserAgent: string | null;
  firstObservedAt: Date;
  lastObservedAt: Date;
}

/** When the gateway first and last saw a device. */
export interface ObservedTimes {
  firstObservedAt: Date;
  lastObservedAt: Date;
}

export interface Sighting {
  ip: string | null;
  seenAt: Date;
}

export interface PurgeResult {
  sightings: number;
  devices: number;
}

/** A device_snapshot row, from the client (Date, bigint) or a raw query (also strings, numbers). */
export interface SnapshotRow {
  userId: string;
  deviceId: string;
  displayName: string | null;
  lastSeenIp: string | null;
  lastSeenTs: bigint | number | null;
  lastSeenUserAgent: string | null;
  firstObservedAt: Date | string | number;
  lastObservedAt: Date | string | number;
}

export function toCached(row: SnapshotRow): CachedDevice {
  return {
    userId: row.userId,
    deviceId: row.deviceId,
    displayName: row.displayName,
    lastSeenIp: row.lastSeenIp,
    lastSeenTs: row.lastSeenTs === null ? null : Number(row.lastSeenTs),
    lastSeenUserAgent: row.lastSeenUserAgent,
    firstObservedAt: new Date(row.firstObservedAt),
    lastObservedAt: new Date(row.lastObservedAt),
  };
}

/**
 * The read side of the last-seen cache. Every read is scoped to one user id: the caller passes the
 * user its token resolved to, and nothing here can list another user's rows, except
 * `inactiveAcrossUsers`, which callers reach only once the homeserver has said they are an admin.
 */
export class DeviceCache {
  constructor(
    private readonly prisma: CachePrisma,
    private readonly store: LastSeenStore | null = null,
    private readonly kind: DatabaseKind = "sqlite",
  ) {}

  /** Every user's inactive devices, oldest activity first, a page at a time (admins only). */
  inactiveAcrossUsers(query: InactivePageQuery): Promise<InactivePage> {
    return inactivePage(this.prisma, this.kind, query);
  }

  /** The user's devices not known to be deleted. */
  async list(userId: string): Promise<CachedDevice[]> {
    const rows = await this.prisma.deviceSnapshot.findMany({
      where: { userId, deletedAt: null },
      orderBy: { deviceId: "asc" },
    });
    return rows.map(toCached);
  }

  /** One device of the user, unless known to be deleted. */
  async get(userId: string, deviceId: string): Promise<CachedDevice | null> {
    const row = await this.prisma.deviceSnapshot.findFirst({
      where: { userId, deviceId, deletedAt: null },
    });
    return row === null ? null : toCached(row);
  }

  /** First/last observation of these devices; a device still queued counts from its queueing. */
  async observed(userId: string, deviceIds: string[]): Promise<Map<string, ObservedTimes>> {
    const rows = await this.prisma.deviceSnapshot.findMany({
      where: { userId, deviceId: { in: deviceIds } },
      select: { deviceId: true, firstObservedAt: true, lastObservedAt: true },
    });
    const times = new Map<string, ObservedTimes>(
      rows.map((row) => [
        row.deviceId,
        { firstObservedAt: row.firstObservedAt, lastObservedAt: row.lastObservedAt },
      ]),
    );
    for (const deviceId of deviceIds) {
      const pending = this.store?.pending(userId, deviceId) ?? null;
      if (pending === null) continue;
      const row = times.get(deviceId);
      const at = new Date(pending.at);
      times.set(deviceId, {
        firstObservedAt: row?.firstObservedAt ?? new Date(pending.firstAt),
        lastObservedAt: row && row.lastObservedAt > at ? row.lastObservedAt : at,
      });
    }
    return times;
  }

  /** The newest `limit` sightings of each device, newest first: one query for all of them. */
  async history(
    userId: string,
    deviceIds: string[],
    limit: number,
  ): Promise<Map<string, Sighting[]>> {
    const history = new Map<string, Sighting[]>(deviceIds.map((id) => [id, []]));
    if (deviceIds.length === 0 || limit <= 0) return history;
    // A window function keeps `limit` rows per device in one round trip (SQLite ≥ 3.25, PostgreSQL).
    const rows = await this.prisma.$queryRaw<
      { deviceId: string; ip: string | null; seenTs: bigint | number }[]
    >`
      SELECT "deviceId", "ip", "seenTs" FROM (
        SELECT "deviceId", "ip", "seenTs",
               ROW_NUMBER() OVER (PARTITION BY "deviceId" ORDER BY "seenTs" DESC) AS "rank"
        FROM "device_sighting"
        WHERE "userId" = ${userId} AND "deviceId" IN (${join(deviceIds)})
      ) ranked
      WHERE "rank" <= ${limit}
      ORDER BY "deviceId", "seenTs" DESC`;
    for (const row of rows) {
      history.get(row.deviceId)?.push({ ip: row.ip, seenAt: new Date(Number(row.seenTs)) });
    }
    return history;
  }

  /**
   * Retention: sightings seen before `cutoff`, and devices deleted before it (with their IPs and
   * all their sightings), are removed.
   */
  async purge(cutoff: Date): Promise<PurgeResult> {
    const gone = await this.prisma.deviceSnapshot.findMany({
      where: { deletedAt: { lt: cutoff } },
      select: { userId: true, deviceId: true },
      take: 10_000,
    });
    const [sightings, , devices] = await this.prisma.$transaction([
      this.prisma.deviceSighting.deleteMany({
        where: { seenTs: { lt: BigInt(cutoff.getTime()) } },
      }),
      this.prisma.deviceSighting.deleteMany({
        where: { OR: gone.map(({ userId, deviceId }) => ({ userId, deviceId })) },
      }),
      this.prisma.deviceSnapshot.deleteMany({
        where: {
          OR: gone.map(({ userId, deviceId }) => ({ userId, deviceId })),
          deletedAt: { lt: cutoff },
        },
      }),
    ]);
    return { sightings: sightings.count, devices: devices.count };
  }
}
