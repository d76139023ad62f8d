import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { POSTGRES_SCHEMA, postgresSchema } from "./postgres-schema.ts";

function prisma(args: string[]): void {
  execFileSync(process.execPath, ["node_modules/prisma/build/index.js", ...args], {
    stdio: ["ignore", "ignore", "inherit"],
  });
}

// Both Prisma clients into src/generated/ (gitignored), the PostgreSQL one from the derived schema.
// Runs on `npm ci` (postinstall) and `npm run db:generate`.
mkdirSync("src/generated", { recursive: true });
writeFileSync(POSTGRES_SCHEMA, postgresSchema(readFileSync("prisma/schema.prisma", "utf8")));
prisma(["generate", "--schema", "prisma/schema.prisma"]);
prisma(["generate", "--schema", POSTGRES_SCHEMA]);
