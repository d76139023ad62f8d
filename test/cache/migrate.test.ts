import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { DatabaseError, parseDatabaseUrl } from "../../src/cache/database.ts";
import { migrate } from "../../src/cache/migrate.ts";
import { sqliteDatabase, type TestDatabase } from "../support/databases.ts";

let db: TestDatabase | null = null;
afterEach(async () => {
  await db?.drop();
  db = null;
});

function fresh() {
  db = sqliteDatabase();
  return { target: parseDatabaseUrl(db.url), file: db.url.slice("file:".length) };
}

describe("migrate", () => {
  it("applies each migration once, idempotently", async () => {
    const { target } = fresh();
    expect(await migrate(target)).toEqual({ applied: ["0001_init"], alreadyApplied: 0 });
    expect(await migrate(target)).toEqual({ applied: [], alreadyApplied: 1 });
  });

  it("leaves a SQLite file in WAL mode, so commits never rewrite pages under fsync", async () => {
    const { target, file } = fresh();
    await migrate(target);
    const sqlite = new Database(file, { readonly: true });
    expect(sqlite.pragma("journal_mode", { simple: true })).toBe("wal");
    sqlite.close();
  });

  it.each([
    [
      "an unknown migration (a newer gateway)",
      "INSERT INTO _gateway_migrations VALUES ('9999_future', 'x', 'now')",
      /9999_future is not known/,
    ],
    [
      "an edited migration",
      "UPDATE _gateway_migrations SET checksum = 'edited'",
      /0001_init was changed/,
    ],
  ])("refuses %s", async (_name, tamper, message) => {
    const { target, file } = fresh();
    await migrate(target);
    const sqlite = new Database(file);
    sqlite.exec(tamper);
    sqlite.close();
    await expect(migrate(target)).rejects.toThrow(message);
    await expect(migrate(target)).rejects.toBeInstanceOf(DatabaseError);
  });

  it("rejects URLs it cannot use", () => {
    expect(() => parseDatabaseUrl("mysql://x/y")).toThrow(DatabaseError);
    expect(() => parseDatabaseUrl("file:")).toThrow(DatabaseError);
    expect(parseDatabaseUrl("postgres://u@h/d")).toEqual({
      kind: "postgresql",
      url: "postgres://u@h/d",
      file: null,
    });
  });
});
