import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ROOT, seedAdmin } from "../support/admin-fixtures.ts";
import {
  LOG,
  RECORDED,
  RENAME,
  someMutations as runMutations,
  SECRET_SHAPED,
} from "../support/audit-scenarios.ts";
import { ALICE, BOB, NOW, seedAlice } from "../support/fixtures.ts";
import { type Harness, type HarnessOptions, startHarness } from "../support/gateway-harness.ts";
import { InMemoryAuditStoreForTests } from "../support/memory-audit-store.ts";

let h: Harness;
let store: InMemoryAuditStoreForTests;
let tokens: ReturnType<typeof seedAlice>;
let root: string;

async function start(options: HarnessOptions["gateway"] = {}) {
  h = await startHarness({ fake: { now: () => NOW }, gateway: { now: () => NOW, ...options } });
  tokens = seedAlice(h.fake);
  root = seedAdmin(h.fake);
}

beforeEach(async () => {
  store = new InMemoryAuditStoreForTests();
  await start({ auditStore: store });
});
afterEach(() => h.stop());

async function someMutations() {
  return runMutations(h, tokens, root);
}

describe("audit log recording", () => {
  it("records every mutation, allowed or refused, with no secret in any column", async () => {
    const { secrets } = await someMutations();
    const rows = store.events.map(({ id: _id, requestId: _r, at: _at, ...row }) => row);
    expect(rows).toEqual(RECORDED);
    for (const event of store.events) {
      expect(event.at).toEqual(new Date(NOW));
      expect(event.requestId).toMatch(/^\S+$/);
    }
    expect(new Set(store.events.map((e) => e.requestId)).size).toBe(store.events.length);
    // Scan every column of every row for anything secret.
    for (const event of store.events) {
      for (const [column, value] of Object.entries(event)) {
        const text = value instanceof Date ? value.toISOString() : JSON.stringify(value);
        for (const secret of secrets) expect(text, column).not.toContain(secret);
        expect(text, column).not.toMatch(SECRET_SHAPED);
      }
    }
  });

  it("keeps mutations working when the audit store fails", async () => {
    store.record = async () => {
      throw new Error("database is locked");
    };
    const { body } = await h.gql(RENAME, { id: "BOBPC", user: BOB }, root);
    expect(body).toEqual({ data: { renameDevice: { __typename: "DeviceRenamed" } } });
    expect(h.logs.some((line) => line.includes("audit record failed"))).toBe(true);
  });
});

describe("Query.auditLog", () => {
  it("shows an admin every event, newest first, paged to the end with cursors", async () => {
    await someMutations();
    const actions: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const { body } = await h.gql(LOG, { first: 3, after }, root);
      const log = body.data.auditLog;
      expect(log.totalCount).toBe(8);
      actions.push(...log.edges.map((e: { node: { outcome: string } }) => e.node.outcome));
      pages += 1;
      if (!log.pageInfo.hasNextPage) break;
      after = log.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(actions).toEqual([
      "InactiveDevicesDeleted",
      "UNAUTHENTICATED",
      "BAD_USER_INPUT",
      "DeviceDeleted",
      "AuthRequired",
      "AuthRequired",
      "Forbidden",
      "DeviceRenamed",
    ]);
    // Every edge's cursor continues right after it.
    const first = (await h.gql(LOG, { first: 3 }, root)).body.data.auditLog;
    const next = await h.gql(LOG, { first: 1, after: first.edges[0].cursor }, root);
    expect(next.body.data.auditLog.edges[0].node).toEqual(first.edges[1].node);
    expect(first.edges[0].node).toEqual({
      id: "8",
      actorUserId: ROOT,
      action: "deleteInactiveDevices",
      targetUserId: ALICE,
      deviceIds: [],
      outcome: "InactiveDevicesDeleted",
      requestId: expect.any(String),
      at: new Date(NOW).toISOString(),
    });
  });

  it("shows a user only the events they acted in or were the target of", async () => {
    await someMutations();
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
    expect((await h.gql(LOG, { user: BOB }, tokens.bob)).body.data.auditLog.totalCount).toBe(2);
    const other = await h.gql(LOG, { user: ALICE }, tokens.bob);
    expect(other.body.errors[0].extensions).toEqual({ code: "FORBIDDEN", errcode: "M_FORBIDDEN" });
    const filtered = await h.gql(LOG, { user: BOB }, root);
    expect(filtered.body.data.auditLog.totalCount).toBe(2);
  });

  it("refuses first over the cap, forged cursors and bad user ids", async () => {
    await someMutations();
    const forged = [
      "%%%",
      Buffer.from('audit:{"a":"mem:999","n":0}').toString("base64url"),
      Buffer.from('audit:{"a":null,"n":-1}').toString("base64url"),
      Buffer.from("audit:not json").toString("base64url"),
      Buffer.from("users:3").toString("base64url"),
    ];
    for (const variables of [
      { first: 101 },
      { user: "bob" },
      ...forged.map((after) => ({ after })),
    ]) {
      const { body } = await h.gql(LOG, variables, root);
      expect(body.errors[0].extensions).toEqual({ code: "BAD_USER_INPUT" });
    }
  });
});

describe("without an audit store", () => {
  it("still runs mutations, and auditLog answers an empty connection", async () => {
    await h.stop();
    await start({ auditStore: null });
    const renamed = await h.gql(RENAME, { id: "BOBPC", user: BOB }, root);
    expect(renamed.body.data.renameDevice).toEqual({ __typename: "DeviceRenamed" });
    expect((await h.gql(LOG, {}, root)).body).toEqual({
      data: {
        auditLog: { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] },
      },
    });
  });
});
