import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import SimpleObjectsPlugin from "@pothos/plugin-simple-objects";
import { GraphQLError, Kind, type ValueNode } from "graphql";
import type { Context } from "./context.ts";
import { GraphQLErrorCode } from "./error-codes.ts";

type JsonValue = unknown;

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: GraphQLErrorCode.BadUserInput } });
}

function literalToJson(node: ValueNode, variables: Record<string, unknown> | null | undefined) {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map((value): JsonValue => literalToJson(value, variables));
    case Kind.OBJECT:
      return Object.fromEntries(
        node.fields.map((field): [string, JsonValue] => [
          field.name.value,
          literalToJson(field.value, variables),
        ]),
      );
    case Kind.VARIABLE:
      return variables?.[node.name.value];
    default:
      throw badInput("JSON cannot hold an enum value");
  }
}

/** The one Pothos builder. Plugin order matters: errors before anything that wraps resolvers. */
export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    Timestamp: { Input: number; Output: number };
    JSON: { Input: JsonValue; Output: JsonValue };
  };
}>({
  plugins: [ErrorsPlugin, SimpleObjectsPlugin],
  defaultFieldNullability: false,
  errors: { directResult: true },
});

builder.scalarType("DateTime", {
  description: "An instant, as an ISO-8601 string in UTC (e.g. 2016-09-21T21:02:55.024Z).",
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = typeof value === "string" ? new Date(value) : null;
    if (date === null || Number.isNaN(date.getTime()))
      throw badInput("DateTime: expected ISO-8601");
    return date;
  },
});

builder.scalarType("Timestamp", {
  description:
    "Milliseconds since the Unix epoch, as a JSON number (Matrix's `*_ts` fields; too large for Int).",
  serialize: (value) => value,
  parseValue: (value) => {
    if (typeof value !== "number" || !Number.isSafeInteger(value)) {
      throw badInput("Timestamp: expected an integer number of milliseconds");
    }
    return value;
  },
});

builder.scalarType("JSON", {
  description: "Any JSON value, passed through as given.",
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (node, variables) => literalToJson(node, variables),
});

builder.queryType({ description: "What the gateway can tell about devices and their owners." });
builder.mutationType({ description: "Changes to devices, proxied to the homeserver." });
