/** What the gateway last wrote (or read) for one device. */
export interface Written {
  displayName: string | null;
  ip: string | null;
  ts: number | null;
  ua: string | null;
  deleted: boolean;
  lastObservedAt: number;
}

/**
 * The last-written state of devices, per user, bounded: past `maxDevices` the least recently
 * written users are forgotten (they cost one read on their next write, nothing more).
 */
export class KnownDevices {
  private readonly users = new Map<string, Map<string, Written>>();
  private size = 0;

  constructor(private readonly maxDevices = 100_000) {}

  get(userId: string, deviceId: string): Written | null {
    return this.users.get(userId)?.get(deviceId) ?? null;
  }

  set(userId: string, deviceId: string, state: Written): void {
    let devices = this.users.get(userId);
    if (devices === undefined) {
      devices = new Map();
    } else {
      this.users.delete(userId); // re-insert: Map order is recency
    }
    this.users.set(userId, devices);
    if (!devices.has(deviceId)) this.size++;
    devices.set(deviceId, state);
    while (this.size > this.maxDevices && this.users.size > 1) {
      const oldest = this.users.keys().next().value;
      if (oldest === undefined) break;
      this.size -= this.users.get(oldest)?.size ?? 0;
      this.users.delete(oldest);
    }
  }

  /** A full list said only `keep` exist: every other known device of the user is deleted. */
  markGone(userId: string, keep: string[]): void {
    const devices = this.users.get(userId);
    if (devices === undefined) return;
    const kept = new Set(keep);
    for (const [deviceId, state] of devices) {
      if (!kept.has(deviceId)) state.deleted = true;
    }
  }
}
