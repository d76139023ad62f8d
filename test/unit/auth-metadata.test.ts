import { describe, expect, it } from "vitest";
import {
  type AuthMetadata,
  AuthMetadataDiscovery,
  cacheControlTtlMs,
  DEFAULT_AUTH_METADATA_TTL_MS,
  deleteDevicesLink,
} from "../../src/homeserver/auth-metadata.ts";
import { HomeserverUnreachable, MatrixError } from "../../src/homeserver/errors.ts";
import type { CallOptions, HomeserverHttp } from "../../src/homeserver/http.ts";

/** A stand-in for the HTTP edge: answers from `respond`, counting calls per path. */
function stubHttp(respond: (path: string, options: CallOptions) => Record<string, unknown>) {
  const calls: string[] = [];
  const http = {
    async call(_method: string, path: string, _params: unknown, options: CallOptions = {}) {
      calls.push(path);
      return respond(path, options);
    },
  } as unknown as HomeserverHttp;
  return { http, calls };
}

const BASE: AuthMetadata = {
  delegated: true,
  accountManagementUri: "https://auth.example.org/account",
  actionsSupported: null,
  issuer: "https://auth.example.org/",
};

describe("auth metadata", () => {
  it("reads Cache-Control lifetimes", () => {
    expect(cacheControlTtlMs(undefined)).toBeNull();
    expect(cacheControlTtlMs("public")).toBeNull();
    expect(cacheControlTtlMs("public, max-age=600")).toBe(600_000);
    expect(cacheControlTtlMs("max-age=60, s-maxage=5")).toBe(60_000);
    expect(cacheControlTtlMs("no-store")).toBe(0);
    expect(cacheControlTtlMs("max-age=99999999")).toBe(24 * 3600_000);
  });

  it("links device_delete, or session_end when only the unstable action is advertised", () => {
    expect(deleteDevicesLink(BASE, ["AB CD"])).toEqual({
      url: "https://auth.example.org/account?action=org.matrix.device_delete&device_id=AB+CD",
      action: "org.matrix.device_delete",
    });
    const unstable = {
      ...BASE,
      actionsSupported: ["org.matrix.session_end", "org.matrix.sessions_list"],
    };
    expect(deleteDevicesLink(unstable, ["X"])).toEqual({
      url: "https://auth.example.org/account?action=org.matrix.session_end&device_id=X",
      action: "org.matrix.session_end",
    });
    expect(deleteDevicesLink(unstable, ["X", "Y"]).action).toBe("org.matrix.sessions_list");
    const withQuery = { ...BASE, accountManagementUri: "https://auth.example.org/a?lang=en" };
    expect(deleteDevicesLink(withQuery, ["X"]).url).toBe(
      "https://auth.example.org/a?lang=en&action=org.matrix.device_delete&device_id=X",
    );
  });
});

describe("AuthMetadataDiscovery", () => {
  it("keeps a delegated answer as long as its Cache-Control says", async () => {
    let now = 0;
    const { http, calls } = stubHttp((_path, options) => {
      options.onHeaders?.({ "cache-control": "max-age=60" });
      return { issuer: "https://auth.example.org/", account_management_uri: "https://a.example/" };
    });
    const discovery = new AuthMetadataDiscovery(http, () => now);
    expect(await discovery.get()).toEqual({
      delegated: true,
      accountManagementUri: "https://a.example/",
      actionsSupported: null,
      issuer: "https://auth.example.org/",
    });
    now = 59_999;
    await discovery.get();
    expect(calls).toHaveLength(1);
    now = 60_000;
    await discovery.get();
    expect(calls).toEqual(["/_matrix/client/v1/auth_metadata", "/_matrix/client/v1/auth_metadata"]);
  });

  it("keeps 'not delegated' for the default lifetime and never keeps a failure", async () => {
    let now = 0;
    let down = true;
    const { http, calls } = stubHttp(() => {
      if (down) throw new HomeserverUnreachable(new Error("refused"));
      throw new MatrixError(404, "M_UNRECOGNIZED", "Unrecognized request");
    });
    const discovery = new AuthMetadataDiscovery(http, () => now);
    await expect(discovery.get()).rejects.toBeInstanceOf(HomeserverUnreachable);
    down = false;
    expect((await discovery.get()).delegated).toBe(false);
    expect(calls).toHaveLength(3);
    now = DEFAULT_AUTH_METADATA_TTL_MS - 1;
    await discovery.get();
    expect(calls).toHaveLength(3);
    now = DEFAULT_AUTH_METADATA_TTL_MS;
    await discovery.get();
    expect(calls).toHaveLength(5);
  });
});
