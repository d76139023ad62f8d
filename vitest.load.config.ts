import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

/** `npm run test:load`: 10 000 requests at 32 connections, loopback only, bounded in time. */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["test/load/**/*.load.ts"],
    testTimeout: 180_000,
    fileParallelism: false,
  },
});
