import path from "node:path";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { defineConfig } from "prisma/config";

/**
 * Prisma's CLI offline: the JS engine with the SQLite adapter (no engine downloads). Used for
 * `prisma generate` and `prisma migrate diff`; the gateway applies migrations itself
 * (src/cache/migrate.ts). See DEVELOPERS.md.
 */
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  async adapter() {
    return new PrismaBetterSQLite3({ url: "file:./data/prisma-cli.db" });
  },
});
