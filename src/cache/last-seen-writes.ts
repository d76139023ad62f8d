import { join, sqltag as sql } from "@prisma/client/runtime/client";
import type { MatrixDevice } from "../homeserver/client-server.ts";
import type { CachePrisma } from "./database.ts";
import type { Written } from "./known-devices.ts";

export interface SightingRow {
  userId: string;
  deviceId: string;
  ip: string | null;
  seenTs: bigint;
  at: number;
}

/** Rows per INSERT: 5 parameters each stays far below SQLite's 32766-parameter limit. */
export const SIGHTINGS_PER_STATEMENT = 1_000;

/**
 * History rows in one statement. ON CONFLICT works on SQLite and PostgreSQL alike: another replica
 * (or an earlier run) may have written the same sighting already. `observedAt` is written as
 * Prisma writes a DateTime on each database, so Prisma reads it back unchanged.
 */
export function insertSightings(prisma: CachePrisma, rows: SightingRow[]) {
  const values = rows.map(
    (row) => sql`(${row.userId}, ${row.deviceId}, ${row.ip}, ${row.seenTs}, ${new Date(row.at)})`,
  );
  return prisma.$executeRaw`
    INSERT INTO "device_sighting" ("userId", "deviceId", "ip", "seenTs", "observedAt")
    VALUES ${join(values)}
    ON CONFLICT ("userId", "deviceId", "seenTs") DO UPDATE SET "ip" = excluded."ip"`;
}

/** Whether a device reads as it was last written (a null user agent keeps the known one). */
export function unchanged(known: Written, device: MatrixDevice): boolean {
  return (
    !known.deleted &&
    known.displayName === device.displayName &&
    known.ip === device.lastSeenIp &&
    known.ts === device.lastSeenTs &&
    (device.lastSeenUserAgent === null || known.ua === device.lastSeenUserAgent)
  );
}
