import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ALICE, NOW, seedAlice, upstream } from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

let h: Harness;
let tokens: ReturnType<typeof seedAlice>;

beforeAll(async () => {
  h = await startHarness({ fake: { now: () => NOW } });
  tokens = seedAlice(h.fake);
});
afterAll(() => h.stop());
beforeEach(() => h.fake.clearLog());

const ALL_FIELDS = "deviceId userId displayName lastSeenIp lastSeenTs lastSeenAt isCurrent";

describe("devices", () => {
  it("lists the viewer's devices with every contract field", async () => {
    const { status, body } = await h.gql(`{ devices { ${ALL_FIELDS} } }`, {}, tokens.alice);
    expect(status).toBe(200);
    const byId = Object.fromEntries(
      body.data.devices.map((d: { deviceId: string }) => [d.deviceId, d]),
    );
    expect(Object.keys(byId).sort()).toEqual(["../../x", "LAPTOP", "PHONE", "UNUSED", "a/b"]);
    // The phone's token made this request, so the homeserver saw it just now from 127.0.0.1.
    expect(byId.PHONE).toEqual({
      deviceId: "PHONE",
      userId: ALICE,
      displayName: "Alice's phone",
      lastSeenIp: "127.0.0.1",
      lastSeenTs: NOW,
      lastSeenAt: new Date(NOW).toISOString(),
      isCurrent: true,
    });
    expect(byId.LAPTOP).toEqual({
      deviceId: "LAPTOP",
      userId: ALICE,
      displayName: "Laptop",
      lastSeenIp: "10.0.0.2",
      lastSeenTs: 1_474_491_775_024,
      lastSeenAt: "2016-09-21T21:02:55.024Z",
      isCurrent: false,
    });
    expect(byId.UNUSED).toEqual({
      deviceId: "UNUSED",
      userId: ALICE,
      displayName: null,
      lastSeenIp: null,
      lastSeenTs: null,
      lastSeenAt: null,
      isCurrent: false,
    });
  });

  it("answers viewer with the token's user and device", async () => {
    const { body } = await h.gql(
      "{ viewer { userId deviceId devices { deviceId isCurrent } } }",
      {},
      tokens.alice,
    );
    expect(body.data.viewer.userId).toBe(ALICE);
    expect(body.data.viewer.deviceId).toBe("PHONE");
    expect(body.data.viewer.devices).toContainEqual({ deviceId: "PHONE", isCurrent: true });
    expect(body.data.viewer.devices).toHaveLength(5);
  });

  it("looks one device up with GET /devices/{id}, and null when the homeserver says 404", async () => {
    const { body } = await h.gql(
      `{ laptop: device(deviceId: "LAPTOP") { deviceId displayName } gone: device(deviceId: "NOPE") { deviceId } }`,
      {},
      tokens.alice,
    );
    expect(body).toEqual({
      data: { laptop: { deviceId: "LAPTOP", displayName: "Laptop" }, gone: null },
    });
  });

  it("uses GET /devices/{id} for a single lookup", async () => {
    const { body } = await h.gql(`{ device(deviceId: "LAPTOP") { deviceId } }`, {}, tokens.alice);
    expect(body).toEqual({ data: { device: { deviceId: "LAPTOP" } } });
    expect(upstream(h.fake, "GET", "/devices/LAPTOP")).toHaveLength(1);
    expect(upstream(h.fake, "GET", "/devices")).toHaveLength(0);
  });

  it("batches 10 lookups and the list into one GET /devices", async () => {
    const ids = ["PHONE", "LAPTOP", "UNUSED", "a/b", "../../x", "N1", "N2", "N3", "N4", "N5"];
    const lookups = ids.map(
      (id, i) => `d${i}: device(deviceId: ${JSON.stringify(id)}) { deviceId }`,
    );
    const query = `{ devices { deviceId } ${lookups.join(" ")} viewer { devices { deviceId } } }`;
    const { body } = await h.gql(query, {}, tokens.alice);
    expect(body.errors).toBeUndefined();
    expect(body.data.d0).toEqual({ deviceId: "PHONE" });
    expect(body.data.d4).toEqual({ deviceId: "../../x" });
    expect(body.data.d9).toBeNull();
    const deviceCalls = h.fake.requests.filter((r) => r.path.includes("/devices"));
    expect(deviceCalls.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /_matrix/client/v3/devices",
    ]);
  });

  it("keeps path-traversal device ids in one encoded segment", async () => {
    const { body } = await h.gql(
      `{ device(deviceId: "../../x") { deviceId displayName } }`,
      {},
      tokens.alice,
    );
    expect(body).toEqual({ data: { device: { deviceId: "../../x", displayName: "dotted" } } });
    const slashed = await h.gql(`{ device(deviceId: "a/b") { displayName } }`, {}, tokens.alice);
    expect(slashed.body).toEqual({ data: { device: { displayName: "slashed" } } });
    expect(h.fake.requests.map((r) => r.path)).toEqual(
      expect.arrayContaining([
        "/_matrix/client/v3/devices/..%2F..%2Fx",
        "/_matrix/client/v3/devices/a%2Fb",
      ]),
    );
  });

  it("asks whoami once, then remembers the identity across requests", async () => {
    const fresh = h.fake.tokenFor(ALICE, "LAPTOP");
    if (fresh === null) throw new Error("no token");
    for (let i = 0; i < 3; i++) {
      const { body } = await h.gql("{ viewer { userId } a: viewer { deviceId } }", {}, fresh);
      expect(body.data).toEqual({ viewer: { userId: ALICE }, a: { deviceId: "LAPTOP" } });
    }
    expect(upstream(h.fake, "GET", "/account/whoami")).toHaveLength(1);
  });
});

describe("authentication", () => {
  it("refuses a request without a token", async () => {
    const { status, body } = await h.gql("{ devices { deviceId } }", {}, null);
    expect(status).toBe(200);
    expect(body.data).toBeNull();
    expect(body.errors).toEqual([
      expect.objectContaining({
        path: ["devices"],
        extensions: { code: "UNAUTHENTICATED", errcode: "M_MISSING_TOKEN" },
      }),
    ]);
    expect(h.fake.requests).toHaveLength(0);
  });

  it("refuses an unknown token with the homeserver's errcode", async () => {
    const { body } = await h.gql("{ viewer { userId } }", {}, "not-a-token");
    expect(body.data).toBeNull();
    expect(body.errors).toEqual([
      expect.objectContaining({
        path: ["viewer", "userId"],
        extensions: { code: "UNAUTHENTICATED", errcode: "M_UNKNOWN_TOKEN" },
      }),
    ]);
  });
});
