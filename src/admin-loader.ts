import DataLoader from "dataloader";
import { mapWithConcurrency } from "./concurrency.ts";
import type { AdminUser, SynapseAdminApi } from "./homeserver/admin-api.ts";
import type { MatrixDevice } from "./homeserver/client-server.ts";
import { MatrixError } from "./homeserver/errors.ts";
import type { UserSession } from "./user-session.ts";

/** Told about every user's device list the admin API returns (the last-seen cache listens). */
export type AdminDeviceObserver = (userId: string, devices: MatrixDevice[]) => void;

/** Told which devices of a user an admin call deleted (the last-seen cache marks them). */
export type AdminDeletionObserver = (userId: string, deviceIds: string[]) => void;

/**
 * One request's view through Synapse's admin API. Every user's device list costs at most one
 * `GET /_synapse/admin/v2/users/{userId}/devices` per request, whatever asks for it; lists asked
 * for in the same tick are fetched together, at most `concurrency` at a time.
 */
export class AdminLoader {
  private readonly lists: DataLoader<string, MatrixDevice[]>;
  private readonly users: DataLoader<string, AdminUser | null>;
  /** Once the homeserver says "not an admin", later admin calls of this request are not sent. */
  private refusal: MatrixError | null = null;
  /** Whether the homeserver has accepted an admin call of this request (the caller is admin). */
  private accepted = false;

  constructor(
    private readonly session: UserSession,
    private readonly api: SynapseAdminApi,
    concurrency: number,
    observe: AdminDeviceObserver,
    private readonly deletedObserver: AdminDeletionObserver = () => {},
  ) {
    this.lists = new DataLoader(
      (userIds) =>
        this.each(userIds, concurrency, async (userId) => {
          const devices = await this.call((api, token) => api.listDevices(token, userId));
          observe(userId, devices);
          return devices;
        }),
      { maxBatchSize: 1000 },
    );
    this.users = new DataLoader((userIds) =>
      this.each(userIds, concurrency, async (userId) => {
        try {
          return await this.call((api, token) => api.getUser(token, userId));
        } catch (error) {
          if (error instanceof MatrixError && error.status === 404) return null;
          throw error;
        }
      }),
    );
  }

  /** The user's devices, as the admin API shows them (with user agents). */
  devicesOf(userId: string): Promise<MatrixDevice[]> {
    return this.lists.load(userId);
  }

  /** The user's account, or null when the homeserver has no such (local) user. */
  user(userId: string): Promise<AdminUser | null> {
    return this.users.load(userId);
  }

  /** Remember a user this request already knows (from the users list). */
  primeUser(user: AdminUser): void {
    this.users.prime(user.userId, user);
  }

  /** Drop what this request knows of a user's devices (after a mutation changed them). */
  forget(userId: string): void {
    this.lists.clear(userId);
  }

  /** An admin call deleted these devices: tell the cache, drop what this request knows. */
  deleted(userId: string, deviceIds: string[]): void {
    this.deletedObserver(userId, deviceIds);
    this.forget(userId);
  }

  /** The admin API bound to the caller's token. */
  async call<T>(fn: (api: SynapseAdminApi, token: string) => Promise<T>): Promise<T> {
    if (this.refusal !== null) throw this.refusal;
    try {
      const result = await this.session.withToken((token) => fn(this.api, token));
      this.accepted = true;
      return result;
    } catch (error) {
      if (error instanceof MatrixError && error.status === 403) this.refusal = error;
      throw error;
    }
  }

  /**
   * Runs `fn` for every key, `concurrency` at a time. Until the homeserver has accepted one
   * admin call of this request, the first key goes alone: a non-admin costs one refused call.
   */
  private async each<R>(
    keys: readonly string[],
    concurrency: number,
    fn: (key: string) => Promise<R>,
  ): Promise<(R | Error)[]> {
    const probe = !this.accepted && keys.length > 1;
    const settled = probe
      ? [
          ...(await mapWithConcurrency(keys.slice(0, 1), 1, fn)),
          ...(await mapWithConcurrency(keys.slice(1), concurrency, fn)),
        ]
      : await mapWithConcurrency(keys, concurrency, fn);
    return settled.map((result) =>
      result.status === "fulfilled" ? result.value : (result.reason as Error),
    );
  }
}
