/**
 * TEST HELPER ONLY: an in-memory `AuditStore`, so the gateway's audit recording can be proven
 * without a database. The real store is Prisma's (src/cache/audit-store.ts).
 */
import {
  type AuditEvent,
  type AuditEventInput,
  type AuditPage,
  type AuditQuery,
  type AuditStore,
  InvalidCursor,
} from "../../src/audit-types.ts";

export class InMemoryAuditStoreForTests implements AuditStore {
  /** Oldest first, as recorded. */
  readonly events: AuditEvent[] = [];

  async record(event: AuditEventInput): Promise<void> {
    this.events.push({
      ...event,
      deviceIds: [...event.deviceIds],
      id: String(this.events.length + 1),
    });
  }

  async list(query: AuditQuery): Promise<AuditPage> {
    const matching = this.events
      .filter(
        (e) =>
          query.userId === null ||
          e.actorUserId === query.userId ||
          e.targetUserId === query.userId,
      )
      .reverse();
    let start = 0;
    if (query.after !== null) {
      const match = /^mem:(\d+)$/.exec(query.after);
      const index = match ? matching.findIndex((e) => e.id === match[1]) : -1;
      if (index === -1) throw new InvalidCursor("unknown cursor");
      start = index + 1;
    }
    const events = matching.slice(start, start + query.first);
    const lastEvent = events.at(-1);
    return {
      events,
      totalCount: matching.length,
      hasNextPage: start + events.length < matching.length,
      endCursor: lastEvent ? `mem:${lastEvent.id}` : null,
    };
  }
}
