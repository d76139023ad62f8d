import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

/** `npm run test:faults`: the fault scenarios, each with its expected answer (bounded, loopback). */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["test/faults/**/*.fault.ts"],
    testTimeout: 60_000,
    fileParallelism: false,
  },
});
