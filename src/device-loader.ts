import DataLoader from "dataloader";
import type { MatrixDevice } from "./homeserver/client-server.ts";
import { MatrixError } from "./homeserver/errors.ts";
import type { UserSession } from "./user-session.ts";

const LIST = Symbol("device list");
type Key = string | typeof LIST;
type Value = MatrixDevice | MatrixDevice[] | null;

/** Told about every device list or device the homeserver returns (the last-seen cache listens). */
export type DeviceObserver = (devices: MatrixDevice[], completeList: boolean) => void;

/**
 * One request's view of the viewer's devices. Lookups made in the same tick are batched: one
 * lookup alone costs GET /devices/{id}; several, or any together with the list, share one
 * GET /devices, and once the list is loaded every later lookup is answered from it.
 */
export class DeviceLoader {
  private listPromise: Promise<MatrixDevice[]> | null = null;
  private readonly loader = new DataLoader<Key, Value, string>((keys) => this.batch(keys), {
    cacheKeyFn: (key) => (key === LIST ? "list" : `id:${key}`),
  });

  constructor(
    private readonly session: UserSession,
    private readonly observe: DeviceObserver,
  ) {}

  /** The viewer's devices (GET /devices). */
  list(): Promise<MatrixDevice[]> {
    return this.loader.load(LIST) as Promise<MatrixDevice[]>;
  }

  /** One of the viewer's devices, or null when the homeserver has no such device. */
  byId(deviceId: string): Promise<MatrixDevice | null> {
    return this.loader.load(deviceId) as Promise<MatrixDevice | null>;
  }

  /** Drop what this request knows (after a mutation changed it). */
  forget(): void {
    this.loader.clearAll();
    this.listPromise = null;
  }

  private async batch(keys: readonly Key[]): Promise<(Value | Error)[]> {
    const [first] = keys;
    if (keys.length === 1 && first !== LIST && this.listPromise === null && first !== undefined) {
      try {
        const device = await this.session.getDevice(first);
        this.observe([device], false);
        return [device];
      } catch (error) {
        if (error instanceof MatrixError && error.status === 404) return [null];
        return [error as Error];
      }
    }
    try {
      const devices = await this.fetchList();
      const byId = new Map(devices.map((device) => [device.deviceId, device]));
      return keys.map((key) => (key === LIST ? devices : (byId.get(key) ?? null)));
    } catch (error) {
      return keys.map(() => error as Error);
    }
  }

  private fetchList(): Promise<MatrixDevice[]> {
    if (this.listPromise === null) {
      this.listPromise = this.session.listDevices().then((devices) => {
        this.observe(devices, true);
        return devices;
      });
    }
    return this.listPromise;
  }
}
