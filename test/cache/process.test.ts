import { readFileSync, writeFileSync } from "node:fs";
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import {
  AVAILABLE_KINDS,
  createDatabase,
  sqliteDatabase,
  type TestDatabase,
} from "../support/databases.ts";
import { FakeHomeserver } from "../support/fake-homeserver.ts";
import { ALICE, seedAlice } from "../support/fixtures.ts";
import { gql, type LoggedGatewayProcess, spawnGateway } from "../support/gateway-process.ts";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function homeserver() {
  const fake = await FakeHomeserver.start();
  cleanup.push(() => fake.stop());
  return { fake, tokens: seedAlice(fake) };
}

function gateway(env: Record<string, string>): LoggedGatewayProcess {
  const process = spawnGateway(env);
  cleanup.push(async () => {
    if (process.child.exitCode === null) process.child.kill("SIGKILL");
    await process.exited;
  });
  return process;
}

async function database(kind: "sqlite" | "postgresql"): Promise<TestDatabase> {
  const db = await createDatabase(kind);
  cleanup.push(() => db.drop());
  return db;
}

describe("the gateway process and its database", () => {
  it.each([
    [
      "an unknown scheme",
      "mysql://db/x",
      2,
      /^matrix-device-gateway: DATABASE_URL: expected file:/,
    ],
    [
      "an unreachable PostgreSQL",
      "postgresql://postgres@127.0.0.1:1/x",
      1,
      /cannot connect to PostgreSQL/,
    ],
  ])("refuses %s with one line and a non-zero exit", async (_name, url, code, line) => {
    const { fake } = await homeserver();
    const run = gateway({ MATRIX_HOMESERVER_URL: fake.url, DATABASE_URL: url });
    expect(await run.exited).toBe(code);
    expect(run.stderr).toHaveLength(1);
    expect(run.stderr[0]).toMatch(line);
  });

  it("refuses a corrupt or foreign SQLite file without touching it", async () => {
    const { fake } = await homeserver();
    const db = sqliteDatabase();
    cleanup.push(() => db.drop());
    const file = db.url.slice("file:".length);
    const foreign = new Database(file);
    foreign.exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY); INSERT INTO invoices VALUES (1)");
    foreign.close();
    const before = readFileSync(file);
    const run = gateway({ MATRIX_HOMESERVER_URL: fake.url, DATABASE_URL: db.url });
    expect(await run.exited).toBe(1);
    expect(run.stderr).toEqual([
      "matrix-device-gateway: database: refusing to use a database this gateway did not create (tables: invoices)",
    ]);
    expect(readFileSync(file).equals(before)).toBe(true);

    writeFileSync(file, "PK\u0003\u0004 not a database, a zip file ".repeat(200));
    const garbled = readFileSync(file);
    const again = gateway({ MATRIX_HOMESERVER_URL: fake.url, DATABASE_URL: db.url });
    expect(await again.exited).toBe(1);
    expect(again.stderr).toEqual([
      `matrix-device-gateway: database: ${file} is not a SQLite database (or is corrupt); refusing it`,
    ]);
    expect(readFileSync(file).equals(garbled)).toBe(true);
  });

  it.each(AVAILABLE_KINDS)(
    "flushes every observation on SIGTERM before exiting (%s)",
    async (kind) => {
      const { fake, tokens } = await homeserver();
      const db = await database(kind);
      const run = gateway({ MATRIX_HOMESERVER_URL: fake.url, DATABASE_URL: db.url });
      const url = await run.listening;
      const body = await gql(url, "{ viewer { userId } devices { deviceId } }", tokens.alice);
      expect(body.data.devices).toHaveLength(5);
      run.child.kill("SIGTERM");
      expect(await run.exited).toBe(0);
      expect(await countSnapshots(db)).toBe(5);
    },
  );

  it.runIf(AVAILABLE_KINDS.includes("postgresql"))(
    "migrates once when two gateways start at once on one PostgreSQL",
    async () => {
      const { fake } = await homeserver();
      const db = await database("postgresql");
      const env = { MATRIX_HOMESERVER_URL: fake.url, DATABASE_URL: db.url };
      const runs = [gateway(env), gateway(env)];
      await Promise.all(runs.map((run) => run.listening));
      const migrated = runs.flatMap((run) =>
        run.stdout.filter((l) => l.includes('"database migrated"')),
      );
      expect(migrated).toHaveLength(1);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query("SELECT name FROM _gateway_migrations");
      await client.end();
      expect(rows).toEqual([{ name: "0001_init" }]);
      for (const run of runs) run.child.kill("SIGTERM");
      expect(await Promise.all(runs.map((run) => run.exited))).toEqual([0, 0]);
    },
  );
});

async function countSnapshots(db: TestDatabase): Promise<number> {
  if (db.kind === "sqlite") {
    const sqlite = new Database(db.url.slice("file:".length), { readonly: true });
    const row = sqlite
      .prepare('SELECT count(*) AS n FROM "device_snapshot" WHERE "userId" = ?')
      .get(ALICE) as {
      n: number;
    };
    sqlite.close();
    return row.n;
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const { rows } = await client.query(
    'SELECT count(*)::int AS n FROM "device_snapshot" WHERE "userId" = $1',
    [ALICE],
  );
  await client.end();
  return rows[0].n;
}
