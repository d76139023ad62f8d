import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidCursor } from "../../src/audit-types.ts";
import { PrismaAuditStore } from "../../src/cache/audit-store.ts";
import { type CachePrisma, openPrisma, parseDatabaseUrl } from "../../src/cache/database.ts";
import { migrate } from "../../src/cache/migrate.ts";
import { AVAILABLE_KINDS, createDatabase, type TestDatabase } from "../support/databases.ts";

const T = Date.UTC(2026, 0, 1);

describe.each(AVAILABLE_KINDS)("PrismaAuditStore on %s", (kind) => {
  let db: TestDatabase;
  let prisma: CachePrisma;
  let store: PrismaAuditStore;

  beforeAll(async () => {
    db = await createDatabase(kind);
    const target = parseDatabaseUrl(db.url);
    await migrate(target);
    prisma = await openPrisma(target);
    store = new PrismaAuditStore(prisma);
    // Five events, two at the same instant (the id breaks the tie).
    const events: [string, string | null, number][] = [
      ["@alice:x", "@alice:x", 0],
      ["@admin:x", "@bob:x", 1],
      ["@admin:x", "@alice:x", 2],
      ["@bob:x", "@bob:x", 2],
      ["@admin:x", "@carol:x", 3],
    ];
    for (const [i, [actorUserId, targetUserId, minute]] of events.entries()) {
      await store.record({
        actorUserId,
        action: "deleteDevice",
        targetUserId,
        deviceIds: [`D${i}`],
        outcome: "DeviceDeleted",
        requestId: `req-${i}`,
        at: new Date(T + minute * 60_000),
      });
    }
  });
  afterAll(async () => {
    await prisma.$disconnect();
    await db.drop();
  });

  async function all(userId: string | null, first: number) {
    const pages = [];
    let after: string | null = null;
    for (;;) {
      const page = await store.list({ first, after, userId });
      pages.push(page);
      if (!page.hasNextPage) return pages;
      after = page.endCursor;
    }
  }

  it("pages newest first with opaque cursors and the total count", async () => {
    const pages = await all(null, 2);
    expect(pages.map((p) => p.events.map((e) => e.requestId))).toEqual([
      ["req-4", expect.any(String)],
      [expect.any(String), "req-1"],
      ["req-0"],
    ]);
    const ids = pages.flatMap((p) => p.events.map((e) => e.requestId));
    expect(new Set(ids).size).toBe(5);
    expect(pages.map((p) => [p.totalCount, p.hasNextPage])).toEqual([
      [5, true],
      [5, true],
      [5, false],
    ]);
    expect(pages[0]?.events[0]).toEqual({
      id: expect.any(String),
      actorUserId: "@admin:x",
      action: "deleteDevice",
      targetUserId: "@carol:x",
      deviceIds: ["D4"],
      outcome: "DeviceDeleted",
      requestId: "req-4",
      at: new Date(T + 3 * 60_000),
    });
    expect(pages[0]?.endCursor).not.toContain(pages[0]?.events[1]?.id);
  });

  it("filters by actor or target, and counts only those", async () => {
    const pages = await all("@alice:x", 1);
    expect(pages.map((p) => p.events.map((e) => e.requestId))).toEqual([["req-2"], ["req-0"]]);
    expect(pages.map((p) => p.totalCount)).toEqual([2, 2]);
  });

  it("rejects forged, garbled or foreign cursors", async () => {
    const [page] = await all("@bob:x", 1);
    const forged = Buffer.from("audit:v1:no-such-id").toString("base64url");
    for (const after of ["garbage!", "", forged, Buffer.from("hello").toString("base64url")]) {
      await expect(store.list({ first: 1, after, userId: null })).rejects.toBeInstanceOf(
        InvalidCursor,
      );
    }
    // A cursor from Bob's filter does not page Carol's events.
    await expect(
      store.list({ first: 1, after: page?.endCursor ?? null, userId: "@carol:x" }),
    ).rejects.toBeInstanceOf(InvalidCursor);
  });

  it("answers an empty page", async () => {
    expect(await store.list({ first: 10, after: null, userId: "@nobody:x" })).toEqual({
      events: [],
      totalCount: 0,
      hasNextPage: false,
      endCursor: null,
    });
  });
});
