import { DatabaseError, parseDatabaseUrl } from "../src/cache/database.ts";
import { migrate } from "../src/cache/migrate.ts";

/** `npm run db:migrate`: what the gateway does at start, alone (DATABASE_URL as for the gateway). */
try {
  const target = parseDatabaseUrl(process.env.DATABASE_URL?.trim() || "file:./data/gateway.db");
  const { applied, alreadyApplied } = await migrate(target);
  process.stdout.write(
    applied.length === 0
      ? `database up to date (${alreadyApplied} migrations)\n`
      : `applied ${applied.join(", ")}\n`,
  );
} catch (error) {
  const message = error instanceof DatabaseError ? error.message : (error as Error).message;
  process.stderr.write(`db:migrate: ${message}\n`);
  process.exit(1);
}
