import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";

/**
 * Generates both Prisma clients into src/generated/ (gitignored): a generated client is tied to one
 * provider, so the PostgreSQL schema is derived from prisma/schema.prisma, the one source of
 * truth, by swapping provider, url and output. Runs on `npm ci` (postinstall) and before tests.
 */
export const POSTGRES_SCHEMA = "src/generated/postgresql.prisma";

export function postgresSchema(sqlite: string): string {
  const derived = sqlite
    .replace('provider = "sqlite"', 'provider = "postgresql"')
    .replace(/url\s*=\s*"file:[^"]*"/, 'url      = "postgresql://127.0.0.1/prisma-cli"')
    .replace('output     = "../src/generated/sqlite"', 'output     = "./postgresql"');
  if (!derived.includes('"postgresql"') || !derived.includes('"./postgresql"')) {
    throw new Error("prisma/schema.prisma no longer has the lines this script swaps");
  }
  return `// GENERATED from prisma/schema.prisma by scripts/prisma-generate.ts: do not edit.\n${derived}`;
}

function prisma(args: string[]): void {
  execFileSync(process.execPath, ["node_modules/prisma/build/index.js", ...args], {
    stdio: ["ignore", "ignore", "inherit"],
  });
}

mkdirSync("src/generated", { recursive: true });
writeFileSync(POSTGRES_SCHEMA, postgresSchema(readFileSync("prisma/schema.prisma", "utf8")));
prisma(["generate", "--schema", "prisma/schema.prisma"]);
prisma(["generate", "--schema", POSTGRES_SCHEMA]);
