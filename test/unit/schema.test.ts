import { readFileSync } from "node:fs";
import { isInputObjectType, isInterfaceType, isIntrospectionType, isObjectType } from "graphql";
import { describe, expect, it } from "vitest";
import { printedSchema } from "../../scripts/print-schema.ts";
import { schema } from "../../src/schema/index.ts";

describe("schema", () => {
  it("is what schema.graphql says (run `npm run schema` after changing it)", () => {
    const committed = readFileSync(new URL("../../schema.graphql", import.meta.url), "utf8");
    expect(committed).toBe(printedSchema());
  });

  it("describes every type, field and argument", () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (isIntrospectionType(type) || type.name.startsWith("__")) continue;
      if (["String", "Boolean", "Int", "Float", "ID"].includes(type.name)) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of "args" in field ? field.args : []) {
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
