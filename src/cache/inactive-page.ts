import { empty, raw, sqltag as sql } from "@prisma/client/runtime/client";
import type { CachePrisma, DatabaseKind } from "./database.ts";
import { type CachedDevice, type SnapshotRow, toCached } from "./device-cache.ts";

/** Where a page of inactive devices starts: right after this (lastActive, userId, deviceId). */
export interface InactivePosition {
  lastActiveMs: number;
  userId: string;
  deviceId: string;
}

export interface InactivePageQuery {
  /** Devices last active strictly before this (ms since the epoch). */
  cutoffMs: number;
  first: number;
  after: InactivePosition | null;
}

export interface InactivePage {
  devices: { device: CachedDevice; position: InactivePosition }[];
  hasNextPage: boolean;
  totalCount: number;
}

interface PageRow extends SnapshotRow {
  lastActive: bigint | number;
}

/**
 * The dialect's pieces: a device's last activity in ms (last_seen_ts, else when first observed)
 * and a byte-order collation, so both databases page in the same order.
 */
function dialect(kind: DatabaseKind) {
  return kind === "postgresql"
    ? {
        lastActive: raw(
          `COALESCE("lastSeenTs", (EXTRACT(EPOCH FROM "firstObservedAt") * 1000)::bigint)`,
        ),
        collate: raw(` COLLATE "C"`),
      }
    : {
        // Prisma's SQLite adapter stores DateTime as ISO-8601 text.
        lastActive: raw(
          `COALESCE("lastSeenTs", CAST(ROUND(unixepoch("firstObservedAt", 'subsec') * 1000) AS INTEGER))`,
        ),
        collate: empty,
      };
}

/**
 * Every user's devices not known to be deleted whose last activity is before the cutoff, oldest
 * first (ties by user id, then device id, byte order): one page query and one count.
 */
export async function inactivePage(
  prisma: CachePrisma,
  kind: DatabaseKind,
  query: InactivePageQuery,
): Promise<InactivePage> {
  const { lastActive, collate } = dialect(kind);
  const after = query.after;
  const afterClause =
    after === null
      ? empty
      : sql`AND ("lastActive" > ${after.lastActiveMs}
              OR ("lastActive" = ${after.lastActiveMs} AND ("userId"${collate} > ${after.userId}
                  OR ("userId" = ${after.userId} AND "deviceId"${collate} > ${after.deviceId}))))`;
  const inactive = sql`
    SELECT "userId", "deviceId", "displayName", "lastSeenIp", "lastSeenTs", "lastSeenUserAgent",
           "firstObservedAt", "lastObservedAt", ${lastActive} AS "lastActive"
    FROM "device_snapshot"
    WHERE "deletedAt" IS NULL`;
  const [rows, counted] = await Promise.all([
    prisma.$queryRaw<PageRow[]>`
      SELECT * FROM (${inactive}) inactive
      WHERE "lastActive" < ${query.cutoffMs} ${afterClause}
      ORDER BY "lastActive", "userId"${collate}, "deviceId"${collate}
      LIMIT ${query.first + 1}`,
    prisma.$queryRaw<{ total: bigint | number }[]>`
      SELECT COUNT(*) AS "total" FROM (${inactive}) inactive
      WHERE "lastActive" < ${query.cutoffMs}`,
  ]);
  const devices = rows.slice(0, query.first).map((row) => ({
    device: toCached(row),
    position: {
      lastActiveMs: Number(row.lastActive),
      userId: row.userId,
      deviceId: row.deviceId,
    },
  }));
  return {
    devices,
    hasNextPage: rows.length > query.first,
    totalCount: Number(counted[0]?.total ?? 0),
  };
}
