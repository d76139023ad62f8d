import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { DatabaseError, type DatabaseKind, type DatabaseTarget } from "./database.ts";

/**
 * Applies prisma/migrations/<provider>/*\/migration.sql (written with `prisma migrate diff`) in
 * name order, each once, recorded in `_gateway_migrations`. Prisma's own `migrate deploy` cannot
 * run on PostgreSQL through the pg adapter (DEVELOPERS.md), so the gateway does it, the same way
 * on both: all in one transaction, serialised between processes (PostgreSQL: an advisory lock;
 * SQLite: BEGIN IMMEDIATE). Safe to run at every start and from several replicas at once.
 */
/**
 * prisma/migrations/ of this package: two levels up from src/cache/, one from the dist/ bundle
 * that `npm start` runs; the nearest ancestor that has one.
 */
function migrationsRoot(): URL {
  for (let up = new URL("./", import.meta.url); ; up = new URL("../", up)) {
    const candidate = new URL("prisma/migrations/", up);
    if (existsSync(candidate)) return candidate;
    if (up.pathname === "/")
      throw new DatabaseError("prisma/migrations/ not found beside the gateway");
  }
}
const MIGRATIONS_ROOT = migrationsRoot();
const TABLE = "_gateway_migrations";
/** pg_advisory_xact_lock key: "mdg-migrate" folded into a bigint. */
const LOCK_KEY = "7308325479385839205";
/** Tables Prisma's CLI or SQLite keep for themselves; not a sign of a foreign database. */
const OWN_TABLES = new Set([TABLE, "sqlite_sequence"]);

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

export function loadMigrations(kind: DatabaseKind): Migration[] {
  const root = new URL(`${kind}/`, MIGRATIONS_ROOT);
  return readdirSync(root)
    .filter((name) => existsSync(new URL(`${name}/migration.sql`, root)))
    .sort()
    .map((name) => {
      const sql = readFileSync(new URL(`${name}/migration.sql`, root), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

/** What to apply, given what the database says it has; refuses a database it cannot trust. */
function plan(
  migrations: Migration[],
  applied: Map<string, string>,
  tables: string[],
  hasTable: boolean,
): Migration[] {
  const foreign = tables.filter((table) => !OWN_TABLES.has(table));
  if (!hasTable && foreign.length > 0) {
    throw new DatabaseError(
      `database: refusing to use a database this gateway did not create (tables: ${foreign.slice(0, 5).join(", ")})`,
    );
  }
  const known = new Map(migrations.map((m) => [m.name, m.checksum]));
  for (const [name, checksum] of applied) {
    if (!known.has(name)) {
      throw new DatabaseError(
        `database: migration ${name} is not known to this gateway (a newer version migrated it)`,
      );
    }
    if (known.get(name) !== checksum) {
      throw new DatabaseError(`database: migration ${name} was changed after it was applied`);
    }
  }
  return migrations.filter((m) => !applied.has(m.name));
}

function migrateSqlite(file: string, migrations: Migration[]): MigrateResult {
  mkdirSync(dirname(file), { recursive: true });
  if (existsSync(file) && statSync(file).isDirectory()) {
    throw new DatabaseError(`DATABASE_URL: ${file} is a directory, not a SQLite file`);
  }
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 30_000 });
  } catch (error) {
    throw new DatabaseError(`database: cannot open ${file}: ${(error as Error).message}`);
  }
  try {
    db.exec("BEGIN IMMEDIATE");
    try {
      const tables = (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
          name: string;
        }[]
      ).map((row) => row.name);
      const hasTable = tables.includes(TABLE);
      const applied = new Map(
        hasTable
          ? (db.prepare(`SELECT name, checksum FROM ${TABLE}`).all() as Row[]).map(toEntry)
          : [],
      );
      const todo = plan(migrations, applied, tables, hasTable);
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${TABLE} (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)`,
      );
      const record = db.prepare(
        `INSERT INTO ${TABLE} (name, checksum, applied_at) VALUES (?, ?, ?)`,
      );
      for (const migration of todo) {
        db.exec(migration.sql);
        record.run(migration.name, migration.checksum, new Date().toISOString());
      }
      db.exec("COMMIT");
      // WAL: a commit appends to the log instead of rewriting pages under fsyncs, and readers
      // never wait for the writer. It is a property of the file, so setting it once is enough.
      db.pragma("journal_mode = WAL");
      return { applied: todo.map((m) => m.name), alreadyApplied: applied.size };
    } catch (error) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw error;
    }
  } catch (error) {
    if (error instanceof DatabaseError) throw error;
    const code = (error as { code?: string }).code;
    if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
      throw new DatabaseError(
        `database: ${file} is not a SQLite database (or is corrupt); refusing it`,
      );
    }
    throw new DatabaseError(`database: cannot migrate ${file}: ${(error as Error).message}`);
  } finally {
    db.close();
  }
}

interface Row {
  name: string;
  checksum: string;
}
const toEntry = (row: Row): [string, string] => [row.name, row.checksum];

async function migratePostgres(url: string, migrations: Migration[]): Promise<MigrateResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on("error", () => {}); // a dropped connection surfaces as the failing query's error
  try {
    await client.connect();
  } catch (error) {
    throw new DatabaseError(`database: cannot connect to PostgreSQL: ${(error as Error).message}`);
  }
  try {
    await client.query("BEGIN");
    try {
      // Held until COMMIT/ROLLBACK: a second replica starting now waits here, then finds all done.
      await client.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY})`);
      const tables = (
        await client.query<{ name: string }>(
          "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()",
        )
      ).rows.map((row) => row.name);
      const hasTable = tables.includes(TABLE);
      const applied = new Map(
        hasTable
          ? (await client.query<Row>(`SELECT name, checksum FROM ${TABLE}`)).rows.map(toEntry)
          : [],
      );
      const todo = plan(migrations, applied, tables, hasTable);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${TABLE} (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
      );
      for (const migration of todo) {
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${TABLE} (name, checksum) VALUES ($1, $2)`, [
          migration.name,
          migration.checksum,
        ]);
      }
      await client.query("COMMIT");
      return { applied: todo.map((m) => m.name), alreadyApplied: applied.size };
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  } catch (error) {
    if (error instanceof DatabaseError) throw error;
    throw new DatabaseError(`database: cannot migrate PostgreSQL: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Brings the database up to date; throws a one-line `DatabaseError` when it cannot. */
export async function migrate(target: DatabaseTarget): Promise<MigrateResult> {
  const migrations = loadMigrations(target.kind);
  if (target.kind === "sqlite" && target.file !== null)
    return migrateSqlite(target.file, migrations);
  return migratePostgres(target.url, migrations);
}
