/** An audit record of one mutation through the gateway, allowed or refused. Never a secret. */
export interface AuditEventInput {
  /** Who called (the token's user id), or null when the token could not be resolved. */
  actorUserId: string | null;
  /** The mutation's field name, e.g. `deleteDevice`. */
  action: string;
  /** Whose devices were targeted. */
  targetUserId: string | null;
  deviceIds: string[];
  /** The result's typename (`DeviceDeleted`, `AuthRequired`, `Forbidden`…) or an error code. */
  outcome: string;
  requestId: string;
  at: Date;
}

export interface AuditEvent extends AuditEventInput {
  id: string;
}

export interface AuditPage {
  events: AuditEvent[];
  totalCount: number;
  hasNextPage: boolean;
  /** Opaque cursor of the last event in `events`. */
  endCursor: string | null;
}

export interface AuditQuery {
  first: number;
  /** An `endCursor` from an earlier page; a forged one is rejected with `InvalidCursor`. */
  after: string | null;
  /** Only events whose actor or target is this user; null = all. */
  userId: string | null;
}

/** Thrown by `AuditStore.list` for a cursor it did not issue. */
export class InvalidCursor extends Error {
  override readonly name = "InvalidCursor";
}

/** Where audit events are kept (Prisma: src/cache/audit-store.ts). Newest first. */
export interface AuditStore {
  record(event: AuditEventInput): Promise<void>;
  list(query: AuditQuery): Promise<AuditPage>;
}
