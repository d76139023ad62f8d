import type { Logger } from "pino";
import type { DeviceSightings } from "../context.ts";
import type { MatrixDevice } from "../homeserver/client-server.ts";
import type { CachePrisma } from "./database.ts";
import { KnownDevices, type Written } from "./known-devices.ts";
import {
  insertSightings,
  SIGHTINGS_PER_STATEMENT,
  type SightingRow,
  unchanged,
} from "./last-seen-writes.ts";

/** One device's pending write: the latest state seen (null = deleted) and the sightings since. */
interface Pending {
  userId: string;
  deviceId: string;
  device: MatrixDevice | null;
  /** when first queued (a new row's firstObservedAt) and when last observed */
  firstAt: number;
  at: number;
  /** distinct (ip, ts) pairs in the order seen, so coalescing keeps the history */
  sightings: { ip: string | null; ts: number }[];
}

/** A full device list: every other device of the user is gone. */
interface Vanish {
  userId: string;
  keep: string[];
  at: number;
}

export interface LastSeenStoreOptions {
  prisma: CachePrisma;
  logger: Logger;
  now?: () => number;
  /** How often queued observations are written (ms). */
  flushIntervalMs?: number;
  /** Most devices waiting; beyond it the oldest are dropped (and counted). */
  maxQueue?: number;
  /** Most devices written in one transaction. */
  maxBatch?: number;
  /** An unchanged device refreshes `lastObservedAt` at most this often (ms). */
  touchIntervalMs?: number;
}

export interface LastSeenStats {
  queued: number;
  maxQueued: number;
  dropped: number;
  /** devices written (upserted or marked deleted) */
  written: number;
  sightings: number;
  batches: number;
  failures: number;
}

const MAX_SIGHTINGS_PER_DEVICE = 32;
const key = (userId: string, deviceId: string) => `${userId}\u0000${deviceId}`;

/**
 * The write side of the last-seen cache, off the response path: `observe` only updates an
 * in-memory queue (coalesced per device, bounded); a timer writes it in batches, one transaction
 * each. What was last written is kept in memory, so an unchanged device costs no write. A database
 * failure is logged once per burst and the batch retried; answers never wait for the database.
 */
export class LastSeenStore implements DeviceSightings {
  private readonly queue = new Map<string, Pending>();
  private readonly vanishes = new Map<string, Vanish>();
  private readonly known = new KnownDevices();
  /** Per user, the sorted device ids of the last full list written (skip repeating it). */
  private readonly reconciled = new Map<string, string>();
  private readonly now: () => number;
  private readonly maxQueue: number;
  private readonly maxBatch: number;
  private readonly touchIntervalMs: number;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | null = null;
  private failing = false;
  private closed = false;
  private readonly counters = {
    maxQueued: 0,
    dropped: 0,
    written: 0,
    sightings: 0,
    batches: 0,
    failures: 0,
  };

  constructor(private readonly options: LastSeenStoreOptions) {
    this.now = options.now ?? Date.now;
    this.maxQueue = options.maxQueue ?? 10_000;
    this.maxBatch = options.maxBatch ?? 500;
    this.touchIntervalMs = options.touchIntervalMs ?? 60_000;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 250);
    this.timer.unref();
  }

  observe(userId: string, devices: MatrixDevice[], completeList: boolean): void {
    if (this.closed) return;
    const at = this.now();
    for (const device of devices) this.enqueue(userId, device.deviceId, device, at);
    if (completeList) {
      const keep = devices.map((device) => device.deviceId).sort();
      if (this.reconciled.get(userId) !== JSON.stringify(keep)) {
        this.vanishes.set(userId, { userId, keep, at });
      }
    }
  }

  /** The gateway deleted these devices. */
  deleted(userId: string, deviceIds: string[]): void {
    if (this.closed) return;
    const at = this.now();
    for (const deviceId of deviceIds) this.enqueue(userId, deviceId, null, at);
    this.reconciled.delete(userId);
  }

  /** When a queued device was first and last observed (so answers need not wait for a flush). */
  pending(userId: string, deviceId: string): { firstAt: number; at: number } | null {
    const pending = this.queue.get(key(userId, deviceId));
    return pending === undefined ? null : { firstAt: pending.firstAt, at: pending.at };
  }

  stats(): LastSeenStats {
    return { queued: this.queue.size, ...this.counters };
  }

  /** Writes everything queued now (waits for a flush already under way first). */
  async flush(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
    if (this.queue.size === 0 && this.vanishes.size === 0) return;
    this.flushing = this.writeBatches().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  /** Stops the timer and writes what is queued (one attempt); later observations are ignored. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
  }

  private enqueue(userId: string, deviceId: string, device: MatrixDevice | null, at: number) {
    const k = key(userId, deviceId);
    const pending = this.queue.get(k);
    const known = this.known.get(userId, deviceId);
    if (pending === undefined && device !== null && known !== null && unchanged(known, device)) {
      if (at - known.lastObservedAt < this.touchIntervalMs) return;
    }
    const sightings = pending?.sightings ?? [];
    const last = sightings.at(-1) ?? (known === null ? null : { ip: known.ip, ts: known.ts });
    if (
      device?.lastSeenTs != null &&
      (last?.ts !== device.lastSeenTs || last.ip !== device.lastSeenIp)
    ) {
      sightings.push({ ip: device.lastSeenIp, ts: device.lastSeenTs });
      if (sightings.length > MAX_SIGHTINGS_PER_DEVICE) sightings.shift();
    }
    if (pending !== undefined) {
      pending.device = device;
      pending.at = at;
      return;
    }
    if (this.queue.size >= this.maxQueue) {
      const oldest = this.queue.keys().next().value;
      if (oldest !== undefined) this.queue.delete(oldest);
      this.counters.dropped++;
    }
    this.queue.set(k, { userId, deviceId, device, firstAt: at, at, sightings });
    this.counters.maxQueued = Math.max(this.counters.maxQueued, this.queue.size);
  }

  private async writeBatches(): Promise<void> {
    while (this.queue.size > 0 || this.vanishes.size > 0) {
      const batch: Pending[] = [];
      for (const [k, pending] of this.queue) {
        if (batch.length >= this.maxBatch) break;
        batch.push(pending);
        this.queue.delete(k);
      }
      const vanishes = [...this.vanishes.values()];
      this.vanishes.clear();
      try {
        await this.write(batch, vanishes);
        this.counters.batches++;
        if (this.failing) {
          this.failing = false;
          this.options.logger.info("last-seen cache: database writable again");
        }
      } catch (error) {
        this.counters.failures++;
        if (!this.failing) {
          this.failing = true;
          this.options.logger.error(
            { err: { name: (error as Error).name, message: (error as Error).message } },
            "last-seen cache: database write failed; retrying in the background",
          );
        }
        this.requeue(batch, vanishes);
        return;
      }
    }
  }

  private requeue(batch: Pending[], vanishes: Vanish[]): void {
    for (const pending of batch) {
      const k = key(pending.userId, pending.deviceId);
      if (this.queue.has(k)) continue; // a newer observation wins
      if (this.queue.size >= this.maxQueue) {
        this.counters.dropped++;
        continue;
      }
      this.queue.set(k, pending);
    }
    for (const vanish of vanishes) {
      if (!this.vanishes.has(vanish.userId)) this.vanishes.set(vanish.userId, vanish);
    }
  }

  private async write(batch: Pending[], vanishes: Vanish[]): Promise<void> {
    const prisma = this.options.prisma;
    await this.loadUnknown(batch);
    const ops = [];
    for (const vanish of vanishes) {
      ops.push(
        prisma.deviceSnapshot.updateMany({
          where: { userId: vanish.userId, deviceId: { notIn: vanish.keep }, deletedAt: null },
          data: { deletedAt: new Date(vanish.at) },
        }),
      );
    }
    const sightings: SightingRow[] = [];
    const written: [Pending, Written][] = [];
    const latestList = new Map(vanishes.map((vanish) => [vanish.userId, vanish]));
    for (const pending of batch) {
      const { userId, deviceId, device, at } = pending;
      const known = this.known.get(userId, deviceId);
      const list = latestList.get(userId);
      // A later full list without this device outranks an earlier single lookup of it.
      if (list !== undefined && list.at >= at && !list.keep.includes(deviceId)) continue;
      if (device === null) {
        ops.push(
          prisma.deviceSnapshot.updateMany({
            where: { userId, deviceId, deletedAt: null },
            data: { deletedAt: new Date(at) },
          }),
        );
        if (known !== null) written.push([pending, { ...known, deleted: true }]);
        continue;
      }
      const ua = device.lastSeenUserAgent ?? known?.ua ?? null;
      const fields = {
        displayName: device.displayName,
        lastSeenIp: device.lastSeenIp,
        lastSeenTs: device.lastSeenTs === null ? null : BigInt(device.lastSeenTs),
        lastSeenUserAgent: ua,
        lastObservedAt: new Date(at),
      };
      ops.push(
        prisma.deviceSnapshot.upsert({
          where: { userId_deviceId: { userId, deviceId } },
          create: { userId, deviceId, ...fields, firstObservedAt: new Date(pending.firstAt) },
          update: { ...fields, deletedAt: null },
        }),
      );
      for (const sighting of pending.sightings) {
        if (known !== null && known.ts === sighting.ts && known.ip === sighting.ip) continue;
        sightings.push({ userId, deviceId, ip: sighting.ip, seenTs: BigInt(sighting.ts), at });
      }
      written.push([
        pending,
        {
          displayName: device.displayName,
          ip: device.lastSeenIp,
          ts: device.lastSeenTs,
          ua,
          deleted: false,
          lastObservedAt: at,
        },
      ]);
    }
    for (let i = 0; i < sightings.length; i += SIGHTINGS_PER_STATEMENT) {
      ops.push(insertSightings(prisma, sightings.slice(i, i + SIGHTINGS_PER_STATEMENT)));
    }
    if (ops.length > 0) await prisma.$transaction(ops);
    for (const [pending, state] of written) this.known.set(pending.userId, pending.deviceId, state);
    for (const vanish of vanishes) {
      this.known.markGone(vanish.userId, vanish.keep);
      // Only an optimisation (skip repeating a list): forgetting it all costs one write per user.
      if (this.reconciled.size >= 10_000) this.reconciled.clear();
      this.reconciled.set(vanish.userId, JSON.stringify(vanish.keep));
    }
    this.counters.written += batch.length;
    this.counters.sightings += sightings.length;
  }

  /** Devices this process has not written yet: read their rows once, to compare against. */
  private async loadUnknown(batch: Pending[]): Promise<void> {
    const unknown = new Map<string, string[]>();
    for (const { userId, deviceId } of batch) {
      if (this.known.get(userId, deviceId) !== null) continue;
      unknown.set(userId, [...(unknown.get(userId) ?? []), deviceId]);
    }
    if (unknown.size === 0) return;
    const rows = await this.options.prisma.deviceSnapshot.findMany({
      where: {
        OR: [...unknown].map(([userId, deviceIds]) => ({ userId, deviceId: { in: deviceIds } })),
      },
    });
    for (const row of rows) {
      this.known.set(row.userId, row.deviceId, {
        displayName: row.displayName,
        ip: row.lastSeenIp,
        ts: row.lastSeenTs === null ? null : Number(row.lastSeenTs),
        ua: row.lastSeenUserAgent,
        deleted: row.deletedAt !== null,
        lastObservedAt: row.lastObservedAt.getTime(),
      });
    }
  }
}
