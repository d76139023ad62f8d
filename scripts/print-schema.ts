import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { lexicographicSortSchema, printSchema } from "graphql";
import { schema } from "../src/schema/index.ts";

const TARGET = new URL("../schema.graphql", import.meta.url);

/** The committed SDL: sorted, so a diff shows only real changes. */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

// `npm run schema` writes the file; `--check` fails when the committed file has drifted.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes("--check")) {
    if (readFileSync(TARGET, "utf8") !== printedSchema()) {
      process.stderr.write("schema.graphql differs from the code: run `npm run schema`\n");
      process.exit(1);
    }
  } else {
    writeFileSync(TARGET, printedSchema());
  }
}
