import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";

/** The machine's PostgreSQL (trust auth); CI starts it (.ci/run). */
export const PG_ADMIN_URL =
  process.env.TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** A database for one test file: created fresh, removed by `drop()`. */
export interface TestDatabase {
  kind: "sqlite" | "postgresql";
  url: string;
  drop(): Promise<void>;
}

export function sqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), "mdg-test-"));
  return {
    kind: "sqlite",
    url: `file:${join(dir, "gateway.db")}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Whether PostgreSQL answers; in CI (`CI` set) a missing PostgreSQL is a failure, not a skip. */
export async function postgresAvailable(): Promise<boolean> {
  try {
    await admin((client) => client.query("SELECT 1"));
    return true;
  } catch (error) {
    if (process.env.CI) throw error;
    return false;
  }
}

export async function postgresDatabase(): Promise<TestDatabase> {
  const name = `mdg_test_${randomBytes(6).toString("hex")}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    kind: "postgresql",
    url: url.href,
    drop: () =>
      admin(
        async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
      ),
  };
}

/** SQLite always; PostgreSQL when it answers (always in CI). */
export const DATABASE_KINDS = ["sqlite", "postgresql"] as const;
const pgUp = await postgresAvailable();
export const AVAILABLE_KINDS = DATABASE_KINDS.filter((kind) => kind === "sqlite" || pgUp);

export function createDatabase(kind: "sqlite" | "postgresql"): Promise<TestDatabase> {
  return kind === "sqlite" ? Promise.resolve(sqliteDatabase()) : postgresDatabase();
}

/**
 * One database for the enclosing describe block: created before its tests, dropped after them.
 * Read `url` inside hooks and tests only.
 */
export function suiteDatabase(kind: "sqlite" | "postgresql"): TestDatabase {
  let db: TestDatabase | null = null;
  beforeAll(async () => {
    db = await createDatabase(kind);
  });
  afterAll(() => db?.drop());
  const current = () => {
    if (db === null) throw new Error("suiteDatabase: used outside its describe block's tests");
    return db;
  };
  return {
    kind,
    get url() {
      return current().url;
    },
    drop: () => current().drop(),
  };
}
