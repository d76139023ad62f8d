import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ROOT, seedAdmin } from "../support/admin-fixtures.ts";
import { LOG, RECORDED, SECRET_SHAPED, someMutations } from "../support/audit-scenarios.ts";
import {
  type CachedHarness,
  type Clock,
  clock,
  startCachedHarness,
} from "../support/cache-harness.ts";
import { AVAILABLE_KINDS, suiteDatabase } from "../support/databases.ts";
import { ALICE, BOB, NOW, seedAlice } from "../support/fixtures.ts";

const COLUMNS = [
  "action",
  "actorUserId",
  "at",
  "deviceIds",
  "id",
  "outcome",
  "requestId",
  "targetUserId",
];

const cursor = (text: string) => Buffer.from(text, "utf8").toString("base64url");

/** The audit log through a gateway whose store is the cache's database (PrismaAuditStore). */
describe.each(AVAILABLE_KINDS)("audit log on the real store (%s)", (kind) => {
  const db = suiteDatabase(kind);
  let h: CachedHarness;
  let time: Clock;
  let tokens: ReturnType<typeof seedAlice>;
  let root: string;
  let secrets: string[];

  /** The scenario's eight mutations, one second apart from NOW (the store orders by time). */
  beforeEach(async () => {
    time = clock(NOW);
    h = await startCachedHarness(db.url, { now: time.now });
    await h.cache.prisma.auditEvent.deleteMany();
    tokens = seedAlice(h.fake);
    root = seedAdmin(h.fake);
    ({ secrets } = await someMutations(h, tokens, root, () => time.advance(1_000)));
  });
  afterEach(() => h.stop());

  it("records every mutation, allowed or refused, with no secret in any column", async () => {
    const rows = await h.cache.prisma.auditEvent.findMany({ orderBy: { at: "asc" } });
    expect(
      rows.map(({ id: _id, requestId: _r, at: _at, deviceIds, ...row }) => ({
        ...row,
        deviceIds: JSON.parse(deviceIds),
      })),
    ).toEqual(RECORDED);
    expect(rows.map((row) => row.at.getTime() - NOW)).toEqual([
      0, 1000, 2000, 3000, 4000, 5000, 6000, 7000,
    ]);
    expect(new Set(rows.map((row) => row.requestId)).size).toBe(8);
    // Every column of every row, as the database holds it (a column added later is scanned too).
    const raw = await h.cache.prisma.$queryRawUnsafe<Record<string, unknown>[]>(
      'SELECT * FROM "audit_event"',
    );
    expect(raw).toHaveLength(8);
    for (const row of raw) {
      expect(Object.keys(row).sort()).toEqual(COLUMNS);
      for (const [column, value] of Object.entries(row)) {
        const text = value instanceof Date ? value.toISOString() : String(value);
        for (const secret of secrets) expect(text, column).not.toContain(secret);
        expect(text, column).not.toMatch(SECRET_SHAPED);
      }
    }
  });

  it("pages an admin through every event, newest first, to the end", async () => {
    const outcomes: string[] = [];
    const pages: [number, boolean, number][] = [];
    let after: string | null = null;
    for (;;) {
      const { body } = await h.gql(LOG, { first: 3, after }, root);
      expect(body.errors).toBeUndefined();
      const log = body.data.auditLog;
      pages.push([log.totalCount, log.pageInfo.hasNextPage, log.edges.length]);
      outcomes.push(...log.edges.map((e: { node: { outcome: string } }) => e.node.outcome));
      expect(log.pageInfo.endCursor).toBe(log.edges.at(-1).cursor);
      if (!log.pageInfo.hasNextPage) break;
      after = log.pageInfo.endCursor;
    }
    expect(pages).toEqual([
      [8, true, 3],
      [8, true, 3],
      [8, false, 2],
    ]);
    expect(outcomes).toEqual([
      "InactiveDevicesDeleted",
      "UNAUTHENTICATED",
      "BAD_USER_INPUT",
      "DeviceDeleted",
      "AuthRequired",
      "AuthRequired",
      "Forbidden",
      "DeviceRenamed",
    ]);
    const newest = await h.cache.prisma.auditEvent.findFirstOrThrow({ orderBy: { at: "desc" } });
    const first = (await h.gql(LOG, { first: 3 }, root)).body.data.auditLog;
    expect(first.edges[0].node).toEqual({
      id: newest.id,
      actorUserId: ROOT,
      action: "deleteInactiveDevices",
      targetUserId: ALICE,
      deviceIds: [],
      outcome: "InactiveDevicesDeleted",
      requestId: newest.requestId,
      at: new Date(NOW + 7_000).toISOString(),
    });
    // Every edge's cursor continues right after it.
    for (const [index, edge] of first.edges.slice(0, -1).entries()) {
      const next = await h.gql(LOG, { first: 1, after: edge.cursor }, root);
      expect(next.body.data.auditLog.edges[0].node).toEqual(first.edges[index + 1].node);
    }
    // Past the end: an empty page.
    const end = await h.gql(LOG, { first: 3, after: after }, root);
    const past = await h.gql(
      LOG,
      { first: 3, after: end.body.data.auditLog.pageInfo.endCursor },
      root,
    );
    expect(past.body).toEqual({
      data: {
        auditLog: { totalCount: 8, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] },
      },
    });
  });

  it("shows a user their own events only, and refuses forged or foreign cursors", async () => {
    const own = await h.gql(LOG, {}, tokens.bob);
    expect(
      own.body.data.auditLog.edges.map((e: { node: { action: string; outcome: string } }) => [
        e.node.action,
        e.node.outcome,
      ]),
    ).toEqual([
      ["renameDevice", "Forbidden"],
      ["renameDevice", "DeviceRenamed"],
    ]);
    expect(own.body.data.auditLog.totalCount).toBe(2);
    // Root's cursor names an event Bob has no part in: not a cursor of Bob's connection.
    const rootPage = (await h.gql(LOG, { first: 1 }, root)).body.data.auditLog;
    const storeCursor = (id: string) => cursor(`audit:v1:${id}`);
    const forged = [
      rootPage.pageInfo.endCursor,
      cursor(`audit:${JSON.stringify({ a: storeCursor("no-such-event"), n: 0 })}`),
      cursor(`audit:${JSON.stringify({ a: "mem:1", n: 0 })}`),
      cursor(`audit:${JSON.stringify({ a: null, n: -1 })}`),
      cursor("audit:not json"),
      cursor('inactive:[1,"@a:b","X"]'),
      "%%%",
    ];
    for (const after of forged) {
      const { body } = await h.gql(LOG, { first: 2, after }, tokens.bob);
      expect({
        data: body.data,
        codes: body.errors?.map((e: { extensions: unknown }) => e.extensions),
      }).toEqual({
        data: null,
        codes: [{ code: "BAD_USER_INPUT" }],
      });
    }
    expect((await h.gql(LOG, { first: 101 }, root)).body.errors[0].extensions).toEqual({
      code: "BAD_USER_INPUT",
    });
    const other = await h.gql(LOG, { user: ALICE }, tokens.bob);
    expect(other.body.errors[0].extensions).toEqual({ code: "FORBIDDEN", errcode: "M_FORBIDDEN" });
    expect((await h.gql(LOG, { user: BOB }, root)).body.data.auditLog.totalCount).toBe(2);
  });
});
