/** Where `npm run db:generate` writes the PostgreSQL schema it derives (gitignored). */
export const POSTGRES_SCHEMA = "src/generated/postgresql.prisma";

/**
 * A generated client is tied to one provider, so the PostgreSQL schema is derived from
 * prisma/schema.prisma, the one source of truth, by swapping provider, url and output.
 */
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
