import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { postgresSchema } from "../../scripts/postgres-schema.ts";
import { parseDatabaseUrl } from "../../src/cache/database.ts";
import { migrate } from "../../src/cache/migrate.ts";
import { AVAILABLE_KINDS, createDatabase, type TestDatabase } from "../support/databases.ts";

/**
 * The committed migrations must build the database prisma/schema.prisma describes: one database
 * migrated by the gateway's runner, one built by Prisma straight from the schema, and their tables,
 * columns, keys and indexes compared. A schema change without its migration fails here.
 */
function schemaFile(kind: "sqlite" | "postgresql"): string {
  if (kind === "sqlite") return "prisma/schema.prisma";
  // Derived here, as `npm run db:generate` does, so a stale generated copy cannot hide a change.
  const file = join(mkdtempSync(join(tmpdir(), "mdg-schema-")), "postgresql.prisma");
  writeFileSync(file, postgresSchema(readFileSync("prisma/schema.prisma", "utf8")));
  return file;
}

/** The SQL Prisma would write for the schema from nothing (offline; see DEVELOPERS.md). */
function sqlFromSchema(kind: "sqlite" | "postgresql"): string {
  mkdirSync("data", { recursive: true }); // the CLI config's adapter opens a file there
  return execFileSync(
    process.execPath,
    [
      "node_modules/prisma/build/index.js",
      "migrate",
      "diff",
      "--from-empty",
      "--to-schema-datamodel",
      schemaFile(kind),
      "--script",
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  );
}

const OURS = "_gateway_migrations";

function describeSqlite(file: string) {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ? ORDER BY name",
      )
      .pluck()
      .all(OURS) as string[];
    return tables.map((table) => ({
      table,
      columns: db.pragma(`table_info("${table}")`),
      foreignKeys: db.pragma(`foreign_key_list("${table}")`),
      indexes: (db.pragma(`index_list("${table}")`) as { name: string; unique: number }[])
        .map((index) => ({
          name: index.name,
          unique: index.unique,
          columns: db.pragma(`index_info("${index.name}")`),
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    }));
  } finally {
    db.close();
  }
}

async function describePostgres(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const columns = await client.query(
      `SELECT table_name, column_name, data_type, is_nullable, column_default
         FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> $1
        ORDER BY table_name, ordinal_position`,
      [OURS],
    );
    const constraints = await client.query(
      `SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS definition
         FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> $1
        ORDER BY 1, 2`,
      [OURS],
    );
    const indexes = await client.query(
      `SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> $1 ORDER BY 1, 2`,
      [OURS],
    );
    return { columns: columns.rows, constraints: constraints.rows, indexes: indexes.rows };
  } finally {
    await client.end();
  }
}

async function describeDatabase(db: TestDatabase) {
  return db.kind === "sqlite"
    ? describeSqlite(db.url.slice("file:".length))
    : describePostgres(db.url);
}

async function runScript(db: TestDatabase, sql: string) {
  if (db.kind === "sqlite") {
    const sqlite = new Database(db.url.slice("file:".length));
    sqlite.exec(sql);
    sqlite.close();
    return;
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

describe.each(AVAILABLE_KINDS)("migrations on %s", (kind) => {
  it("build exactly the database prisma/schema.prisma describes", async () => {
    const migrated = await createDatabase(kind);
    const fromSchema = await createDatabase(kind);
    try {
      await migrate(parseDatabaseUrl(migrated.url));
      await runScript(fromSchema, sqlFromSchema(kind));
      const expected = await describeDatabase(fromSchema);
      expect(JSON.stringify(expected)).toContain("device_snapshot"); // compares something real
      expect(await describeDatabase(migrated)).toEqual(expected);
    } finally {
      await migrated.drop();
      await fromSchema.drop();
    }
  }, 30_000);
});
