import { randomUUID } from "node:crypto";
import {
  type AuditEvent,
  type AuditEventInput,
  type AuditPage,
  type AuditQuery,
  type AuditStore,
  InvalidCursor,
} from "../audit-types.ts";
import type { CachePrisma } from "./database.ts";

interface AuditRow {
  id: string;
  actorUserId: string | null;
  action: string;
  targetUserId: string | null;
  deviceIds: string;
  outcome: string;
  requestId: string;
  at: Date;
}

const CURSOR_PREFIX = "audit:v1:";

function encodeCursor(id: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${id}`, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw new InvalidCursor("Malformed cursor");
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  if (!text.startsWith(CURSOR_PREFIX)) throw new InvalidCursor("Malformed cursor");
  return text.slice(CURSOR_PREFIX.length);
}

function toEvent(row: AuditRow): AuditEvent {
  let deviceIds: string[] = [];
  try {
    const parsed: unknown = JSON.parse(row.deviceIds);
    if (Array.isArray(parsed)) deviceIds = parsed.filter((id) => typeof id === "string");
  } catch {
    // a row written by hand: no device ids rather than a failed page
  }
  return {
    id: row.id,
    actorUserId: row.actorUserId,
    action: row.action,
    targetUserId: row.targetUserId,
    deviceIds,
    outcome: row.outcome,
    requestId: row.requestId,
    at: row.at,
  };
}

/**
 * Audit events in the gateway's database, newest first (by time, then id). A cursor names the
 * last event of a page; one the store did not issue for this filter throws `InvalidCursor`.
 */
export class PrismaAuditStore implements AuditStore {
  constructor(private readonly prisma: CachePrisma) {}

  async record(event: AuditEventInput): Promise<void> {
    await this.prisma.auditEvent.create({
      data: { ...event, id: randomUUID(), deviceIds: JSON.stringify(event.deviceIds) },
    });
  }

  async list(query: AuditQuery): Promise<AuditPage> {
    const first = Math.max(0, Math.floor(query.first));
    const scope =
      query.userId === null
        ? {}
        : { OR: [{ actorUserId: query.userId }, { targetUserId: query.userId }] };
    let after = {};
    if (query.after !== null) {
      const id = decodeCursor(query.after);
      const anchor = await this.prisma.auditEvent.findFirst({ where: { id, ...scope } });
      if (anchor === null) throw new InvalidCursor("Unknown cursor");
      after = {
        OR: [{ at: { lt: anchor.at } }, { at: anchor.at, id: { lt: anchor.id } }],
      };
    }
    const [rows, totalCount] = await Promise.all([
      this.prisma.auditEvent.findMany({
        where: { AND: [scope, after] },
        orderBy: [{ at: "desc" }, { id: "desc" }],
        take: first + 1,
      }),
      this.prisma.auditEvent.count({ where: scope }),
    ]);
    const events = rows.slice(0, first).map(toEvent);
    const last = events.at(-1);
    return {
      events,
      totalCount,
      hasNextPage: rows.length > first,
      endCursor: last === undefined ? null : encodeCursor(last.id),
    };
  }
}
