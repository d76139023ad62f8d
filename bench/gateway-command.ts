import { readFileSync } from "node:fs";

/**
 * What `npm start` runs: its node flags (package.json) and the esbuild bundle, so a bench measures
 * what ships. BENCH_NODE_FLAGS replaces the flags; `entry` replaces the bundle.
 */
export function gatewayNodeArgs(entry = "dist/main.js"): string[] {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  const flags = (process.env.BENCH_NODE_FLAGS ?? String(pkg.scripts.start))
    .split(/\s+/)
    .filter((word) => word.startsWith("--"));
  return [...flags, entry];
}
