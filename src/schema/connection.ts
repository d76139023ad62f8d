import type { ObjectRef, SchemaTypes } from "@pothos/core";
import { GraphQLError } from "graphql";
import { builder } from "../builder.ts";
import { GraphQLErrorCode } from "../error-codes.ts";

/** Most items one page may ask for (`first`). */
export const MAX_PAGE_SIZE = 100;

export interface PageInfoValue {
  hasNextPage: boolean;
  endCursor: string | null;
}

export const PageInfoRef = builder.objectRef<PageInfoValue>("PageInfo").implement({
  description: "Where a page of a connection ends (Relay cursor connections).",
  fields: (t) => ({
    hasNextPage: t.exposeBoolean("hasNextPage", {
      description: "Whether more items follow; ask again with `after: endCursor`.",
    }),
    endCursor: t.exposeString("endCursor", {
      nullable: true,
      description: "The cursor of the last item of this page; null when the page is empty.",
    }),
  }),
});

export function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: GraphQLErrorCode.BadUserInput } });
}

/** `first` within 0…MAX_PAGE_SIZE, else BAD_USER_INPUT. */
export function pageSize(first: number | null | undefined, fallback = 50): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) {
    throw badInput(`first: expected 0 to ${MAX_PAGE_SIZE}, got ${size}`);
  }
  return size;
}

/** An opaque cursor: base64url of `{kind}:{payload}`. */
export function encodeCursor(kind: string, payload: string): string {
  return Buffer.from(`${kind}:${payload}`, "utf8").toString("base64url");
}

/** BAD_USER_INPUT for an `after` this connection did not issue (forged, garbled or foreign). */
export function foreignCursor(): GraphQLError {
  return badInput("after: not a cursor this connection issued");
}

/** The payload of a cursor this gateway issued for `kind`; a forged one is BAD_USER_INPUT. */
export function decodeCursor(kind: string, cursor: string): string {
  const text = /^[A-Za-z0-9_-]{1,2048}$/.test(cursor)
    ? Buffer.from(cursor, "base64url").toString("utf8")
    : "";
  if (!text.startsWith(`${kind}:`)) throw foreignCursor();
  return text.slice(kind.length + 1);
}

/** A cursor whose payload is JSON (a position of several parts). */
export function encodeJsonCursor(kind: string, payload: unknown): string {
  return encodeCursor(kind, JSON.stringify(payload));
}

/** The JSON payload of a cursor from `encodeJsonCursor`; callers check its shape. */
export function decodeJsonCursor(kind: string, cursor: string): unknown {
  const payload = decodeCursor(kind, cursor);
  try {
    return JSON.parse(payload);
  } catch {
    throw foreignCursor();
  }
}

/** A connection with nothing in it (no store, no cache). */
export function emptyConnection<T>(): ConnectionValue<T> {
  return { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] };
}

/** The builder's own schema types, so node refs keep their Context. */
type SchemaTypesOf<B> =
  B extends PothosSchemaTypes.SchemaBuilder<infer Types extends SchemaTypes> ? Types : never;

export interface EdgeValue<T> {
  cursor: string;
  node: T;
}

export interface ConnectionValue<T> {
  totalCount: number;
  pageInfo: PageInfoValue;
  edges: EdgeValue<T>[];
}

interface ConnectionNames {
  /** The node type's name: `Device` gives `DeviceEdge` and `DeviceConnection`. */
  type: string;
  /** The node, for descriptions: "device" (and "devices"). */
  singular: string;
  plural: string;
  /** What one page of the connection is. */
  description: string;
}

/** A Relay cursor connection over `nodeRef`: `{ totalCount, pageInfo, edges { cursor node } }`. */
export function connectionRef<T>(
  nodeRef: ObjectRef<SchemaTypesOf<typeof builder>, T>,
  names: ConnectionNames,
) {
  const edgeRef = builder.objectRef<EdgeValue<T>>(`${names.type}Edge`).implement({
    description: `An edge of \`${names.type}Connection\`: one ${names.singular} and its cursor.`,
    fields: (t) => ({
      cursor: t.exposeString("cursor", { description: "Pass as `after` to continue after it." }),
      node: t.expose("node", { type: nodeRef, description: `The ${names.singular}.` }),
    }),
  });
  return builder.objectRef<ConnectionValue<T>>(`${names.type}Connection`).implement({
    description: `${names.description} (Relay cursor connection).`,
    fields: (t) => ({
      totalCount: t.exposeInt("totalCount", {
        description: `How many ${names.plural} match, over all pages.`,
      }),
      pageInfo: t.field({
        type: PageInfoRef,
        description: "Whether more pages follow, and from where.",
        resolve: (connection) => connection.pageInfo,
      }),
      edges: t.field({
        type: [edgeRef],
        description: `The ${names.plural} of this page.`,
        resolve: (connection) => connection.edges,
      }),
    }),
  });
}
