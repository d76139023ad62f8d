import { type AuditEvent, type AuditPage, InvalidCursor } from "../audit-types.ts";
import { builder } from "../builder.ts";
import { MatrixError } from "../homeserver/errors.ts";
import { checkUserId } from "../user-id.ts";
import { viewerIsAdmin } from "./admin-target.ts";
import {
  connectionRef,
  decodeJsonCursor,
  emptyConnection,
  encodeJsonCursor,
  foreignCursor,
  pageSize,
} from "./connection.ts";
import { orRequestError, toRequestError } from "./errors.ts";

const AuditEventRef = builder.objectRef<AuditEvent>("AuditEvent").implement({
  description:
    "One mutation through the gateway, allowed or refused. Never holds a token, a password or " +
    "an auth dict.",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The event's id." }),
    actorUserId: t.exposeString("actorUserId", {
      nullable: true,
      description: "Who called; null when the access token could not be resolved.",
    }),
    action: t.exposeString("action", { description: "The mutation, e.g. deleteDevice." }),
    targetUserId: t.exposeString("targetUserId", {
      nullable: true,
      description: "Whose devices were targeted.",
    }),
    deviceIds: t.exposeIDList("deviceIds", {
      description:
        "The devices named (deleteInactiveDevices: the ones deleted; none in a dry run).",
    }),
    outcome: t.exposeString("outcome", {
      description:
        "The result's typename (DeviceDeleted, AuthRequired, Forbidden…) or the error code " +
        "(BAD_USER_INPUT, UNAUTHENTICATED…).",
    }),
    requestId: t.exposeString("requestId", { description: "The gateway's request id." }),
    at: t.field({ type: "DateTime", description: "When it happened.", resolve: (e) => e.at }),
  }),
});

const AuditEventConnectionRef = connectionRef(AuditEventRef, {
  type: "AuditEvent",
  singular: "event",
  plural: "events",
  description: "A page of the audit log, newest first",
});

/**
 * Our cursors wrap the store's: `a` is the store cursor the page started after, `n` how many of
 * its events to skip, so every edge has a cursor whatever the store's cursor format.
 */
const AUDIT_CURSOR = "audit";
const MAX_SKIP = 1000;

function cursorOf(storeAfter: string | null, skip: number): string {
  return encodeJsonCursor(AUDIT_CURSOR, { a: storeAfter, n: skip });
}

function parseCursor(after: string | null | undefined): { a: string | null; n: number } {
  if (after === null || after === undefined) return { a: null, n: 0 };
  const value = decodeJsonCursor(AUDIT_CURSOR, after);
  const { a, n } = (value ?? {}) as { a?: unknown; n?: unknown };
  if (
    (a !== null && typeof a !== "string") ||
    typeof n !== "number" ||
    !Number.isInteger(n) ||
    n < 0 ||
    n > MAX_SKIP
  ) {
    throw foreignCursor();
  }
  return { a, n };
}

builder.queryField("auditLog", (t) =>
  t.field({
    type: AuditEventConnectionRef,
    description:
      "Mutations through the gateway, newest first. Homeserver admins see everyone's (or one " +
      "user's, with `userId`); other users see the events they acted in or were the target " +
      "of, and FORBIDDEN for anyone else's. Empty when the gateway keeps no audit store.",
    args: {
      first: t.arg.int({ defaultValue: 50, description: "How many events per page (0 to 100)." }),
      after: t.arg.string({ description: "The `endCursor` of the previous page." }),
      userId: t.arg.string({
        description:
          "Only events this user acted in or was the target of; omitted = all (admins) or " +
          "the viewer's own (others).",
      }),
    },
    resolve: async (_root, args, ctx) => {
      const first = pageSize(args.first);
      const cursor = parseCursor(args.after);
      if (args.userId !== null && args.userId !== undefined) checkUserId(args.userId);
      const viewer = await orRequestError(ctx.viewer());
      let userId = args.userId ?? null;
      if (userId !== viewer.userId) {
        const admin = await viewerIsAdmin(ctx, viewer.userId);
        if (!admin && userId !== null) {
          throw toRequestError(
            new MatrixError(403, "M_FORBIDDEN", "Only admins may read other users' audit log"),
          );
        }
        if (!admin) userId = viewer.userId;
      }
      const store = ctx.auditStore;
      if (store === null) return emptyConnection<AuditEvent>();
      let page: AuditPage;
      try {
        page = await store.list({ first: cursor.n + first, after: cursor.a, userId });
      } catch (error) {
        if (error instanceof InvalidCursor) {
          throw foreignCursor();
        }
        throw error;
      }
      const events = page.events.slice(cursor.n);
      const last = cursor.n + events.length;
      const endCursor =
        events.length === 0
          ? null
          : page.endCursor !== null
            ? cursorOf(page.endCursor, 0)
            : cursorOf(cursor.a, last);
      const edges = events.map((node, index) => ({
        cursor:
          index === events.length - 1
            ? (endCursor as string)
            : cursorOf(cursor.a, cursor.n + index + 1),
        node,
      }));
      return {
        totalCount: page.totalCount,
        pageInfo: { hasNextPage: page.hasNextPage, endCursor },
        edges,
      };
    },
  }),
);
