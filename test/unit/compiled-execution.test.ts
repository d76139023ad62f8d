import { GraphQLError } from "graphql";
import { createSchema, createYoga } from "graphql-yoga";
import { describe, expect, it } from "vitest";
import { compiledExecution } from "../../src/compiled-execution.ts";

/**
 * compiledExecution must not change a single answer: every request below goes to two yogas over
 * one schema, with and without it, and the bodies and statuses must match byte for byte.
 */
const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Device { id: ID!, name: String, owner: String! }
    type NotFound { id: ID! }
    union Lookup = Device | NotFound
    type Query {
      devices(limit: Int!): [Device!]!
      lookup(id: ID!): Lookup!
      broken: String
      unexpected: String
      strict: Device!
    }
  `,
  resolvers: {
    Query: {
      devices: (_: unknown, { limit }: { limit: number }) =>
        [
          { id: "A", name: "phone", owner: "@a:x" },
          { id: "B", name: null, owner: null },
        ].slice(0, limit),
      lookup: (_: unknown, { id }: { id: string }) =>
        id === "A"
          ? { __typename: "Device", id, name: "phone", owner: "@a:x" }
          : { __typename: "NotFound", id },
      broken: () => {
        throw new GraphQLError("homeserver unreachable", {
          extensions: { code: "UPSTREAM_UNAVAILABLE" },
        });
      },
      unexpected: async () => {
        throw new Error("secret upstream body");
      },
      strict: () => ({ id: "C", name: "tablet", owner: null }),
    },
  },
});

const plain = createYoga({ schema, maskedErrors: { isDev: false } });
const compiled = createYoga({
  schema,
  maskedErrors: { isDev: false },
  plugins: [compiledExecution(schema, { compileAfterRuns: 0 })],
});

async function ask(yoga: typeof plain, query: string, variables?: unknown, accept?: string) {
  const response = await yoga.fetch("http://localhost/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", ...(accept ? { accept } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: await response.text() };
}

/** GraphQL string literals built to break out of generated JavaScript if jit pasted them raw. */
const CODE_LIKE = [
  '"\\"); throw new Error(\\"injected\\"); (\\""',
  '"\\\\\\u2028\\u2029</script>`$' + '{1}`"',
];
const CODE_LIKE_QUERY = `{ ${CODE_LIKE.map((id, i) => `l${i}: lookup(id: ${id}) { ... on NotFound { id } }`).join(" ")} }`;

const cases: [string, string, unknown?][] = [
  ["plain fields, aliases", "{ a: devices(limit: 1) { id name } b: devices(limit: 2) { id } }"],
  ["a field error keeps its locations", "{\n  devices(limit: 1) { id }\n  broken\n}"],
  ["CRLF line breaks", "{\r\n  devices(limit: 1) { id }\r\n\r\n    broken\r\n}"],
  ["a masked unexpected error", "query Q {\n  unexpected\n}"],
  ["non-null bubbling inside a list", "{ devices(limit: 2) {\n id\n owner } }"],
  ["non-null bubbling to the root", "{\n  strict { owner }\n}"],
  [
    "union fragments",
    "query L($id: ID!) { lookup(id: $id) { __typename ... on Device { name } ... on NotFound { id } } }",
    { id: "Z" },
  ],
  [
    "skip and include",
    "query S($no: Boolean!) { devices(limit: 1) { id name @skip(if: $no) owner @include(if: $no) } }",
    { no: true },
  ],
  ["string literals that look like code stay data (jit generates JavaScript)", CODE_LIKE_QUERY],
  ["a variable of the wrong type", "query V($n: Int!) { devices(limit: $n) { id } }", { n: "two" }],
  ["a missing variable", "query V($n: Int!) { devices(limit: $n) { id } }", {}],
];

describe("compiledExecution", () => {
  for (const accept of ["application/json", "application/graphql-response+json"]) {
    for (const [name, query, variables] of cases) {
      it(`answers as the standard executor: ${name} (${accept})`, async () => {
        const expected = await ask(plain, query, variables, accept);
        const actual = await ask(compiled, query, variables, accept);
        expect(actual).toEqual(expected);
      });
    }
  }

  it("answers the same on every run, before and after the document is compiled", async () => {
    const patient = createYoga({
      schema,
      maskedErrors: { isDev: false },
      plugins: [compiledExecution(schema)],
    });
    const query = "{\n  devices(limit: 2) { id name }\n  broken\n}";
    const expected = await ask(plain, query);
    for (let run = 0; run < 4; run++) expect(await ask(patient, query)).toEqual(expected);
  });

  it("keeps code-like string literals as data", async () => {
    const { body } = await ask(compiled, CODE_LIKE_QUERY);
    expect(JSON.parse(body)).toEqual({
      data: {
        l0: { id: '"); throw new Error("injected"); ("' },
        l1: { id: "\\\u2028\u2029</script>`$" + "{1}`" },
      },
    });
  });

  it("gives jit's field errors the standard locations", async () => {
    const { body } = await ask(compiled, "{\r\n  devices(limit: 1) { id }\r\n\r\n    broken\r\n}");
    expect(JSON.parse(body).errors).toEqual([
      {
        message: "homeserver unreachable",
        locations: [{ line: 4, column: 5 }],
        path: ["broken"],
        extensions: { code: "UPSTREAM_UNAVAILABLE" },
      },
    ]);
  });
});
