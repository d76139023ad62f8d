import type {
  AuthDict,
  ClientServerApi,
  MatrixDevice,
  Whoami,
} from "./homeserver/client-server.ts";
import { MatrixError } from "./homeserver/errors.ts";
import { type IdentityCache, tokenHash } from "./identity-cache.ts";

/**
 * The client-server API bound to one caller's token for one request. Its whoami is asked at most
 * once and remembered across requests under the token's hash; any 401 forgets it at once.
 */
export class UserSession {
  readonly tokenHash: string;
  private whoamiPromise: Promise<Whoami> | null = null;

  constructor(
    private readonly api: ClientServerApi,
    private readonly identities: IdentityCache,
    private readonly token: string,
    /** Told which devices a delete removed (the last-seen cache marks them deleted). */
    private readonly onDeleted: (deviceIds: string[]) => void = () => {},
  ) {
    this.tokenHash = tokenHash(token);
  }

  whoami(): Promise<Whoami> {
    if (this.whoamiPromise === null) {
      const known = this.identities.fresh(this.tokenHash);
      this.whoamiPromise = known
        ? Promise.resolve(known)
        : this.guard(this.api.whoami(this.token)).then((whoami) => {
            this.identities.remember(this.tokenHash, whoami);
            return whoami;
          });
    }
    return this.whoamiPromise;
  }

  listDevices(): Promise<MatrixDevice[]> {
    return this.guard(this.api.listDevices(this.token));
  }

  getDevice(deviceId: string): Promise<MatrixDevice> {
    return this.guard(this.api.getDevice(this.token, deviceId));
  }

  renameDevice(deviceId: string, displayName: string): Promise<void> {
    return this.guard(this.api.renameDevice(this.token, deviceId, displayName));
  }

  async deleteDevice(deviceId: string, auth: AuthDict | null): Promise<void> {
    await this.guard(this.api.deleteDevice(this.token, deviceId, auth));
    this.onDeleted([deviceId]);
  }

  async deleteDevices(deviceIds: string[], auth: AuthDict | null): Promise<void> {
    await this.guard(this.api.deleteDevices(this.token, deviceIds, auth));
    this.onDeleted(deviceIds);
  }

  /** Runs another API's call (the admin API) with this token, under the same 401 rule. */
  withToken<T>(call: (token: string) => Promise<T>): Promise<T> {
    return this.guard(call(this.token));
  }

  /** After deleting the caller's own device its token is dead: stop vouching for it. */
  forgetIdentityIfDeleted(deviceIds: string[]): void {
    const known = this.identities.stale(this.tokenHash);
    if (known === null || (known.deviceId !== null && deviceIds.includes(known.deviceId))) {
      this.identities.forget(this.tokenHash);
    }
  }

  private async guard<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (error) {
      if (error instanceof MatrixError && error.status === 401) {
        this.identities.forget(this.tokenHash);
      }
      throw error;
    }
  }
}
