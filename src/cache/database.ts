import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { PrismaClient } from "../generated/sqlite/client.ts";

/**
 * The Prisma client the cache uses. Both generated clients (SQLite, PostgreSQL) come from the same
 * models, so their model APIs are identical; the SQLite one's type stands for both.
 */
export type CachePrisma = PrismaClient;

export type DatabaseKind = "sqlite" | "postgresql";

export interface DatabaseTarget {
  kind: DatabaseKind;
  /** The URL as configured (PostgreSQL) or `file:<absolute path>` (SQLite). */
  url: string;
  /** SQLite: the database file's absolute path; null for PostgreSQL. */
  file: string | null;
}

/** A database problem at start; its message is the one line printed before exiting. */
export class DatabaseError extends Error {
  override readonly name = "DatabaseError";
}

/** `file:<path>` (relative to the working directory) or `postgres(ql)://…`; anything else throws. */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith("file:")) {
    const path = url.slice("file:".length).split("?")[0] ?? "";
    if (path === "" || path === ":memory:") {
      throw new DatabaseError("DATABASE_URL: expected file:<path> of a SQLite database file");
    }
    const file = resolve(path);
    return { kind: "sqlite", url: `file:${file}`, file };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: "postgresql", url, file: null };
  throw new DatabaseError(
    `DATABASE_URL: expected file:<path> (SQLite) or postgresql://… (PostgreSQL), got a "${url.split(":")[0]}:" URL`,
  );
}

export interface OpenOptions {
  /** SQLite: how long a write waits for another connection's lock (ms). */
  busyTimeoutMs?: number;
  /** PostgreSQL: connection pool size. */
  poolSize?: number;
}

/** A Prisma client over the right driver adapter; the generated client is loaded on demand. */
export async function openPrisma(
  target: DatabaseTarget,
  options: OpenOptions = {},
): Promise<CachePrisma> {
  if (target.kind === "sqlite" && target.file !== null) {
    mkdirSync(dirname(target.file), { recursive: true });
    const [{ PrismaBetterSQLite3 }, { PrismaClient }] = await Promise.all([
      import("@prisma/adapter-better-sqlite3"),
      import("../generated/sqlite/client.ts"),
    ]);
    const adapter = new PrismaBetterSQLite3({
      url: target.url,
      timeout: options.busyTimeoutMs ?? 5_000,
    });
    const prisma = new PrismaClient({ adapter });
    // With WAL (set by the migration runner), NORMAL syncs only at checkpoints: a commit no longer
    // waits for the disk on the event loop. A power cut can lose the last commits of a cache.
    await prisma.$executeRawUnsafe("PRAGMA synchronous = NORMAL");
    return prisma;
  }
  const [{ PrismaPg }, { PrismaClient }] = await Promise.all([
    import("@prisma/adapter-pg"),
    import("../generated/postgresql/client.ts"),
  ]);
  const adapter = new PrismaPg({
    connectionString: target.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
  });
  // Same models, other provider: the PostgreSQL client's API is the SQLite one's (see CachePrisma).
  return new PrismaClient({ adapter }) as unknown as CachePrisma;
}
