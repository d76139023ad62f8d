import type { CachedDevice } from "../cache/device-cache.ts";
import type { RequestCache } from "../cache/request-cache.ts";
import type { Context } from "../context.ts";
import { GraphQLErrorCode } from "../error-codes.ts";
import type { Whoami } from "../homeserver/client-server.ts";
import { HomeserverTimeout, HomeserverUnreachable } from "../homeserver/errors.ts";
import type { DeviceView } from "./device.ts";
import { toRequestError } from "./errors.ts";

/** A cached device as the `Device` type shows it (`source: CACHE`). */
export function cachedView(device: CachedDevice, viewer: Whoami): DeviceView {
  return {
    deviceId: device.deviceId,
    displayName: device.displayName,
    lastSeenIp: device.lastSeenIp,
    lastSeenTs: device.lastSeenTs,
    lastSeenUserAgent: device.lastSeenUserAgent,
    userId: device.userId,
    source: "CACHE",
    firstObservedAt: device.firstObservedAt,
    lastObservedAt: device.lastObservedAt,
    isCurrent: device.userId === viewer.userId && device.deviceId === viewer.deviceId,
  };
}

/** The newest observation among cached rows: how fresh a stale answer is. */
export function newestObservation(devices: CachedDevice[]): Date | null {
  let newest: Date | null = null;
  for (const device of devices) {
    if (newest === null || device.lastObservedAt > newest) newest = device.lastObservedAt;
  }
  return newest;
}

export interface CachedAnswer<T> {
  value: T;
  cachedAt: Date | null;
}

/**
 * Stale-if-error for queries: the live answer when the homeserver gives one; when it is
 * unreachable or times out, the cached answer for the user this token is remembered as (within
 * STALE_IDENTITY_TTL_S), marked stale. Without a remembered identity, without a cache, when
 * `cached` declines (null: that identity may not read this from the cache) or when the cache
 * itself fails, the homeserver's error stands. Mutations never come here.
 */
export async function liveOrCached<T>(
  ctx: Context,
  live: () => Promise<T>,
  cached: (cache: RequestCache, viewer: Whoami) => Promise<CachedAnswer<T> | null>,
): Promise<T> {
  try {
    return await live();
  } catch (error) {
    const outage = error instanceof HomeserverUnreachable || error instanceof HomeserverTimeout;
    const cache = ctx.cache;
    const viewer = outage && cache !== null ? cache.staleViewer() : null;
    if (cache === null || viewer === null) throw toRequestError(error);
    let answer: CachedAnswer<T> | null;
    try {
      answer = await cached(cache, viewer);
    } catch (cacheError) {
      ctx.logger.warn({ err: { message: (cacheError as Error).message } }, "cache read failed");
      throw toRequestError(error);
    }
    if (answer === null) throw toRequestError(error);
    const reason =
      error instanceof HomeserverTimeout
        ? GraphQLErrorCode.UpstreamTimeout
        : GraphQLErrorCode.UpstreamUnavailable;
    cache.markStale(reason, answer.cachedAt);
    return answer.value;
  }
}
