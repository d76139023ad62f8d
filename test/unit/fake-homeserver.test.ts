import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeHomeserver, type FakeHomeserverOptions } from "../support/fake-homeserver.ts";

const V3 = "/_matrix/client/v3";
const ADMIN = "/_synapse/admin/v2";

interface CallInit {
  method?: string;
  token?: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: answers are asserted exactly, shape varies per call
  json: any;
}

async function call(hs: FakeHomeserver, path: string, init: CallInit = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers["content-type"] = "application/json";
  }
  const res = await fetch(hs.url + path, {
    method: init.method ?? "GET",
    headers,
    body,
    signal: init.signal,
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const error = (errcode: string, message: string) => ({ errcode, error: message });
const CHALLENGE = { flows: [{ stages: ["m.login.password"] }], params: {} };

let clock = 1_700_000_000_000;
const now = () => clock;
let serial = 0;

/** A fresh user with devices; returns its id, password and one token per device. */
function newUser(hs: FakeHomeserver, deviceIds: string[], init: { admin?: boolean } = {}) {
  serial += 1;
  const userId = `@user${serial}:localhost`;
  const password = `password-${serial}`;
  hs.addUser({ userId, password, ...init });
  const tokens = deviceIds.map((deviceId) => hs.addDevice(userId, { deviceId }));
  return { userId, localpart: `user${serial}`, password, tokens };
}

async function withServer(
  options: FakeHomeserverOptions,
  run: (hs: FakeHomeserver) => Promise<void>,
) {
  const hs = await FakeHomeserver.start(options);
  try {
    await run(hs);
  } finally {
    await hs.stop();
  }
}

let hs: FakeHomeserver;
beforeAll(async () => {
  hs = await FakeHomeserver.start({ now });
});
afterAll(() => hs.stop());

describe("discovery and tokens", () => {
  it("answers versions without a token, as configured", async () => {
    const answer = await call(hs, "/_matrix/client/versions");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("application/json");
    expect(answer.json).toEqual({ versions: ["r0.6.1", "v1.1", "v1.11"], unstable_features: {} });
    await withServer({ versions: ["r0.6.1"] }, async (other) => {
      expect((await call(other, "/_matrix/client/versions")).json.versions).toEqual(["r0.6.1"]);
    });
  });

  it("says whose token it is on r0 and v3, by header or by query parameter", async () => {
    const { userId, tokens } = newUser(hs, ["WHO"]);
    const me = { user_id: userId, device_id: "WHO", is_guest: false };
    expect((await call(hs, `${V3}/account/whoami`, { token: tokens[0] })).json).toEqual(me);
    expect(
      (await call(hs, "/_matrix/client/r0/account/whoami", { token: tokens[0] })).json,
    ).toEqual(me);
    const query = `access_token=${encodeURIComponent(tokens[0] ?? "")}`;
    expect((await call(hs, `${V3}/account/whoami?${query}`)).json).toEqual(me);
  });

  it("refuses missing, malformed, mixed and unknown tokens", async () => {
    const { tokens } = newUser(hs, ["TOK"]);
    const missing = await call(hs, `${V3}/account/whoami`);
    expect([missing.status, missing.json]).toEqual([
      401,
      error("M_MISSING_TOKEN", "Missing access token."),
    ]);
    const basic = await call(hs, `${V3}/devices`, { headers: { authorization: "Basic abc" } });
    expect([basic.status, basic.json.errcode]).toEqual([401, "M_MISSING_TOKEN"]);
    const mixed = await call(hs, `${V3}/devices?access_token=x`, { token: tokens[0] });
    expect([mixed.status, mixed.json.errcode]).toEqual([401, "M_MISSING_TOKEN"]);
    const unknown = await call(hs, `${V3}/devices`, { token: "syt_nope" });
    expect([unknown.status, unknown.json]).toEqual([
      401,
      { ...error("M_UNKNOWN_TOKEN", "Invalid access token passed."), soft_logout: false },
    ]);
  });
  it("answers CORS preflights and delays answers by latencyMs", async () => {
    const preflight = await call(hs, `${V3}/devices`, { method: "OPTIONS" });
    expect([preflight.status, preflight.headers.get("access-control-allow-origin")]).toEqual([
      204,
      "*",
    ]);
    await withServer({ latencyMs: 80 }, async (slow) => {
      const started = performance.now();
      expect((await call(slow, "/_matrix/client/versions")).status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    });
  });

  it("keeps only the newest maxLoggedRequests entries in its request log", async () => {
    await withServer({ maxLoggedRequests: 2 }, async (small) => {
      for (const path of ["/a", "/b", "/c"]) await call(small, `/_matrix/client${path}`);
      expect(small.requests.map((r) => r.path)).toEqual(["/_matrix/client/b", "/_matrix/client/c"]);
    });
  });
});

describe("devices", () => {
  it("lists devices, leaving out what a never-used device does not have", async () => {
    const { userId, tokens } = newUser(hs, ["AAA", "BBB"]);
    hs.setDevice(userId, {
      deviceId: "CCC",
      displayName: "named",
      lastSeenIp: "10.0.0.1",
      lastSeenTs: 5,
    });
    clock += 1000;
    const answer = await call(hs, `${V3}/devices`, {
      token: tokens[0],
      headers: { "user-agent": "test-agent/1.0" },
    });
    expect(answer.json).toEqual({
      devices: [
        { device_id: "AAA", last_seen_ip: "127.0.0.1", last_seen_ts: clock },
        { device_id: "BBB" },
        { device_id: "CCC", display_name: "named", last_seen_ip: "10.0.0.1", last_seen_ts: 5 },
      ],
    });
    expect(Object.keys(answer.json.devices[1])).toEqual(["device_id"]);
    expect(hs.devicesOf(userId)[0]).toEqual({
      deviceId: "AAA",
      lastSeenIp: "127.0.0.1",
      lastSeenTs: clock,
      userAgent: "test-agent/1.0",
    });
  });

  it("answers with nulls and user_id like Synapse when asked to", async () => {
    await withServer({ deviceJson: "synapse", now }, async (other) => {
      other.addUser({ userId: "@s:localhost", password: "p" });
      const token = other.addDevice("@s:localhost", { deviceId: "ONE" });
      other.addDevice("@s:localhost", { deviceId: "TWO" });
      const answer = await call(other, `${V3}/devices/TWO`, { token });
      expect(answer.json).toEqual({
        user_id: "@s:localhost",
        device_id: "TWO",
        display_name: null,
        last_seen_ip: null,
        last_seen_ts: null,
      });
    });
  });

  it("gets, renames and refuses unknown devices and bad bodies", async () => {
    const { tokens } = newUser(hs, ["DEV"]);
    const token = tokens[0];
    const path = `${V3}/devices/DEV`;
    expect(
      (await call(hs, path, { method: "PUT", token, body: { display_name: "Phone" } })).json,
    ).toEqual({});
    expect((await call(hs, path, { method: "PUT", token, body: {} })).status).toBe(200);
    expect((await call(hs, path, { token })).json).toEqual({
      device_id: "DEV",
      display_name: "Phone",
      last_seen_ip: "127.0.0.1",
      last_seen_ts: clock,
    });
    const put = (body: unknown, raw?: string) =>
      call(
        hs,
        path,
        raw === undefined ? { method: "PUT", token, body } : { method: "PUT", token, raw },
      );
    const tooLong = await put({ display_name: "x".repeat(101) });
    expect([tooLong.status, tooLong.json]).toEqual([
      400,
      error("M_TOO_LARGE", "Device display name is too long (max 100)"),
    ]);
    // Synapse counts code points: 100 emoji are 200 UTF-16 units and still fit.
    expect((await put({ display_name: "😀".repeat(100) })).status).toBe(200);
    expect((await put(null, "not json")).json).toEqual(error("M_NOT_JSON", "Content not JSON."));
    expect((await put(null, "[1]")).json.errcode).toBe("M_BAD_JSON");
    expect((await put({ display_name: 5 })).json.errcode).toBe("M_BAD_JSON");
    const getMissing = await call(hs, `${V3}/devices/NOPE`, { token });
    expect([getMissing.status, getMissing.json.errcode]).toEqual([404, "M_NOT_FOUND"]);
    const putMissing = await call(hs, `${V3}/devices/NOPE`, { method: "PUT", token, body: {} });
    expect([putMissing.status, putMissing.json.errcode]).toEqual([404, "M_NOT_FOUND"]);
  });

  it("treats device ids as opaque: encoded slashes stay in one segment", async () => {
    const { userId, tokens } = newUser(hs, ["a/b", "../../x"]);
    const token = tokens[0];
    expect((await call(hs, `${V3}/devices/a%2Fb`, { token })).json.device_id).toBe("a/b");
    expect((await call(hs, `${V3}/devices/..%2F..%2Fx`, { token })).json.device_id).toBe("../../x");
    const rename = await call(hs, `${V3}/devices/a%2Fb`, {
      method: "PUT",
      token,
      body: { display_name: "n" },
    });
    expect(rename.status).toBe(200);
    expect(hs.devicesOf(userId).find((d) => d.deviceId === "a/b")?.displayName).toBe("n");
    expect(hs.requests.at(-1)?.path).toBe(`${V3}/devices/a%2Fb`);
    const raw = await call(hs, `${V3}/devices/a/b`, { token });
    expect([raw.status, raw.json]).toEqual([404, error("M_UNRECOGNIZED", "Unrecognized request")]);
  });

  it("answers unknown routes 404, wrong methods 405, big bodies 413", async () => {
    const { tokens } = newUser(hs, ["R"]);
    const token = tokens[0];
    expect((await call(hs, `${V3}/nothing`, { token })).status).toBe(404);
    const wrong = await call(hs, `${V3}/devices`, { method: "POST", token, body: {} });
    expect([wrong.status, wrong.json]).toEqual([
      405,
      error("M_UNRECOGNIZED", "Unrecognized request"),
    ]);
    const big = await call(hs, `${V3}/devices/R`, {
      method: "PUT",
      token,
      raw: "x".repeat(1024 * 1024 + 1),
    });
    expect([big.status, big.json.errcode]).toEqual([413, "M_TOO_LARGE"]);
  });
});

describe("deleting devices with user-interactive auth", () => {
  const del = (deviceId: string, token: string | undefined, body?: unknown) =>
    call(hs, `${V3}/devices/${encodeURIComponent(deviceId)}`, { method: "DELETE", token, body });
  const password = (user: string, pw: string, session?: string) => ({
    auth: {
      type: "m.login.password",
      identifier: { type: "m.id.user", user },
      password: pw,
      session,
    },
  });

  it("challenges, rejects a wrong password, then deletes and kills the token", async () => {
    const { userId, localpart, password: pw, tokens } = newUser(hs, ["MINE", "GONE"]);
    const challenge = await del("GONE", tokens[0]);
    expect(challenge.status).toBe(401);
    expect(challenge.json).toEqual({ ...CHALLENGE, session: expect.any(String) });
    const session: string = challenge.json.session;

    const wrong = await del("GONE", tokens[0], password(userId, "wrong-password", session));
    expect([wrong.status, wrong.json]).toEqual([
      401,
      {
        ...CHALLENGE,
        session,
        completed: [],
        ...error("M_FORBIDDEN", "Invalid username or password"),
      },
    ]);
    expect(wrong.text).not.toContain("wrong-password");

    const right = await del("GONE", tokens[0], password(localpart, pw, session));
    expect([right.status, right.json]).toEqual([200, {}]);
    expect(hs.devicesOf(userId).map((d) => d.deviceId)).toEqual(["MINE"]);
    const dead = await call(hs, `${V3}/account/whoami`, { token: tokens[1] });
    expect([dead.status, dead.json.errcode]).toEqual([401, "M_UNKNOWN_TOKEN"]);
    const replay = await del("GONE", tokens[0], password(localpart, pw, session));
    expect([replay.status, replay.json]).toEqual([400, error("M_UNKNOWN", "Unknown session ID")]);
    // Already gone: still 200 once authenticated (the spec: "or had been removed previously").
    const again = await del("GONE", tokens[0], {
      auth: { type: "m.login.password", user: userId, password: pw },
    });
    expect([again.status, again.json]).toEqual([200, {}]);
  });

  it("refuses unknown sessions, other users' credentials and changed operations", async () => {
    const alice = newUser(hs, ["A1", "A2", "A3"]);
    const bob = newUser(hs, ["B1"]);
    const unknown = await del(
      "A2",
      alice.tokens[0],
      password(alice.userId, alice.password, "made-up-id"),
    );
    expect([unknown.status, unknown.json]).toEqual([400, error("M_UNKNOWN", "Unknown session ID")]);
    expect(unknown.text).not.toContain("made-up-id");

    const session = (await del("A2", alice.tokens[0])).json.session;
    const asBob = await del("A2", alice.tokens[0], password(bob.userId, bob.password, session));
    expect([asBob.status, asBob.json]).toEqual([403, error("M_FORBIDDEN", "Invalid auth")]);
    const changed = await del(
      "A3",
      alice.tokens[0],
      password(alice.userId, alice.password, session),
    );
    expect([changed.status, changed.json]).toEqual([
      403,
      error("M_FORBIDDEN", "Requested operation has changed during the UI authentication session."),
    ]);
    expect(hs.devicesOf(alice.userId)).toHaveLength(3);
  });

  it("completes m.login.dummy without satisfying the flow; refuses unknown types", async () => {
    const { tokens } = newUser(hs, ["D1", "D2"]);
    const session = (await del("D2", tokens[0])).json.session;
    const dummy = await del("D2", tokens[0], { auth: { type: "m.login.dummy", session } });
    expect([dummy.status, dummy.json]).toEqual([
      401,
      { ...CHALLENGE, session, completed: ["m.login.dummy"] },
    ]);
    const odd = await del("D2", tokens[0], { auth: { type: "m.login.odd", user: "x", session } });
    expect([odd.status, odd.json]).toEqual([400, error("M_UNKNOWN", "Unknown login type")]);
  });

  it("expires sessions after five minutes of the injected clock", async () => {
    const { userId, password: pw, tokens } = newUser(hs, ["E1", "E2"]);
    const session = (await del("E2", tokens[0])).json.session;
    clock += 5 * 60_000 + 1;
    const late = await del("E2", tokens[0], password(userId, pw, session));
    expect([late.status, late.json.errcode]).toEqual([400, "M_UNKNOWN"]);
  });

  it("deletes in bulk through POST /delete_devices", async () => {
    const { userId, password: pw, tokens } = newUser(hs, ["K1", "K2", "K3"]);
    const post = (body: unknown) =>
      call(hs, `${V3}/delete_devices`, { method: "POST", token: tokens[0], body });
    const missing = await post({});
    expect([missing.status, missing.json.errcode]).toEqual([400, "M_BAD_JSON"]);
    const challenge = await post({ devices: ["K2", "K3", "NEVER"] });
    expect(challenge.json).toEqual({ ...CHALLENGE, session: expect.any(String) });
    const session = challenge.json.session;
    const other = await post({ devices: ["K1"], ...password(userId, pw, session) });
    expect([other.status, other.json.errcode]).toEqual([403, "M_FORBIDDEN"]);
    const done = await post({ devices: ["K2", "K3", "NEVER"], ...password(userId, pw, session) });
    expect([done.status, done.json]).toEqual([200, {}]);
    expect(hs.devicesOf(userId).map((d) => d.deviceId)).toEqual(["K1"]);
    expect((await call(hs, `${V3}/account/whoami`, { token: tokens[2] })).status).toBe(401);
  });
});

describe("faults", () => {
  it("rate limits with the Retry-After header and/or retry_after_ms", async () => {
    const { tokens } = newUser(hs, ["F"]);
    const token = tokens[0];
    hs.inject(
      { kind: "rateLimit", retryAfterMs: 1500, header: true },
      { match: "/devices", times: 2 },
    );
    const whoami = await call(hs, `${V3}/account/whoami`, { token });
    expect(whoami.status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const limited = await call(hs, `${V3}/devices`, { token });
      expect([limited.status, limited.headers.get("retry-after"), limited.json]).toEqual([
        429,
        "2",
        { ...error("M_LIMIT_EXCEEDED", "Too Many Requests"), retry_after_ms: 1500 },
      ]);
    }
    expect((await call(hs, `${V3}/devices`, { token })).status).toBe(200);
    hs.inject(
      { kind: "rateLimit", retryAfterMs: 900, header: true, body: false },
      { method: "put" },
    );
    expect((await call(hs, `${V3}/devices`, { token })).status).toBe(200);
    const headerOnly = await call(hs, `${V3}/devices/F`, { method: "PUT", token, body: {} });
    expect([headerOnly.status, headerOnly.headers.get("retry-after"), headerOnly.json]).toEqual([
      429,
      "1",
      error("M_LIMIT_EXCEEDED", "Too Many Requests"),
    ]);
    hs.inject({ kind: "rateLimit", retryAfterMs: 300, header: false }, { match: /whoami$/ });
    const bodyOnly = await call(hs, `${V3}/account/whoami`, { token });
    expect([bodyOnly.headers.get("retry-after"), bodyOnly.json.retry_after_ms]).toEqual([
      null,
      300,
    ]);
  });

  it("answers 5xx as Synapse (with errcode) or as the proxy in front (HTML)", async () => {
    hs.inject({ kind: "status", status: 503, errcode: "M_UNKNOWN", error: "down" });
    const matrix = await call(hs, "/_matrix/client/versions");
    expect([matrix.status, matrix.json]).toEqual([503, error("M_UNKNOWN", "down")]);
    hs.inject({ kind: "status", status: 502 });
    const proxy = await call(hs, "/_matrix/client/versions");
    expect([proxy.status, proxy.headers.get("content-type"), proxy.json]).toEqual([
      502,
      "text/html",
      null,
    ]);
    expect(proxy.text).toContain("502 Bad Gateway");
    expect(hs.requests.at(-1)?.status).toBe(502);
  });

  it("hangs until the caller gives up, and resets sockets", async () => {
    hs.inject({ kind: "hang" }, { match: "versions" });
    const hung = call(hs, "/_matrix/client/versions", { signal: AbortSignal.timeout(150) });
    await expect(hung).rejects.toThrow(/abort|timeout/i);
    expect(hs.requests.at(-1)?.status).toBe(0);
    hs.inject({ kind: "reset" });
    await expect(call(hs, "/_matrix/client/versions")).rejects.toThrow(TypeError);
    expect((await call(hs, "/_matrix/client/versions")).status).toBe(200);
  });

  it("stop() ends hanging requests and can be called twice", async () => {
    const other = await FakeHomeserver.start();
    other.inject({ kind: "hang" });
    const hung = call(other, "/_matrix/client/versions");
    await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all([other.stop(), other.stop()]);
    await expect(hung).rejects.toThrow(TypeError);
  });

  it("logs requests raw, including the answered status", async () => {
    hs.clearLog();
    await call(hs, `${V3}/devices/x%2Fy?a=1&b=%20`, {
      method: "PUT",
      token: "t",
      body: { display_name: "n" },
    });
    expect(hs.requests).toEqual([
      {
        method: "PUT",
        path: `${V3}/devices/x%2Fy`,
        query: "a=1&b=%20",
        headers: expect.objectContaining({ authorization: "Bearer t" }),
        body: { display_name: "n" },
        status: 401,
      },
    ]);
  });
});

describe("Synapse admin API", () => {
  let admin: FakeHomeserver;
  let seed: ReturnType<FakeHomeserver["seedDemo"]>;
  beforeAll(async () => {
    admin = await FakeHomeserver.start({ now });
    seed = admin.seedDemo();
  });
  afterAll(() => admin.stop());

  it("seeds alice with a never-used and an old device, bob with two", () => {
    const alice = admin.devicesOf(seed.alice);
    expect(alice.map((d) => d.deviceId)).toEqual(["ALICEDEV01", "ALICEDEV02", "ALICEDEV03"]);
    expect(alice[2]).toEqual({ deviceId: "ALICEDEV03" });
    expect(clock - (alice[1]?.lastSeenTs ?? clock)).toBeGreaterThan(90 * 24 * 3600_000);
    expect(admin.devicesOf(seed.bob)).toHaveLength(2);
  });

  it("lets admins read users and devices, and nobody else", async () => {
    const bobDevices = await call(admin, `${ADMIN}/users/${seed.bob}/devices`, {
      token: seed.aliceToken,
    });
    expect(bobDevices.json.total).toBe(2);
    expect(bobDevices.json.devices[1]).toEqual({
      device_id: "BOBDEV02",
      user_id: seed.bob,
      display_name: "Element on iOS",
      last_seen_ip: "192.0.2.45",
      last_seen_ts: clock - 30 * 24 * 3600_000,
      last_seen_user_agent: "Element/1.11.20 (iPhone; iOS 17.5)",
    });
    const asBob = await call(admin, `${ADMIN}/users/${seed.alice}/devices`, {
      token: seed.bobToken,
    });
    expect([asBob.status, asBob.json]).toEqual([
      403,
      error("M_FORBIDDEN", "You are not a server admin"),
    ]);
    const user = await call(admin, `${ADMIN}/users/${encodeURIComponent(seed.bob)}`, {
      token: seed.aliceToken,
    });
    expect(user.json).toMatchObject({
      name: seed.bob,
      displayname: "Bob",
      admin: false,
      deactivated: false,
    });
    const cases: [string, number, string][] = [
      ["@nobody:localhost", 404, "M_NOT_FOUND"],
      ["@bob:elsewhere.org", 400, "M_UNKNOWN"],
      ["bob", 400, "M_INVALID_PARAM"],
    ];
    for (const [userId, status, errcode] of cases) {
      const answer = await call(admin, `${ADMIN}/users/${userId}`, { token: seed.aliceToken });
      expect([answer.status, answer.json.errcode]).toEqual([status, errcode]);
    }
  });

  it("renames and deletes other users' devices without UIA", async () => {
    const token = seed.aliceToken;
    const device = `${ADMIN}/users/${seed.bob}/devices/BOBDEV02`;
    expect(
      (await call(admin, device, { method: "PUT", token, body: { display_name: "Old" } })).status,
    ).toBe(200);
    expect((await call(admin, device, { token })).json.display_name).toBe("Old");
    const bulk = await call(admin, `${ADMIN}/users/${seed.bob}/delete_devices`, {
      method: "POST",
      token,
      body: { devices: ["BOBDEV01", "NEVER"] },
    });
    expect([bulk.status, bulk.json]).toEqual([200, {}]);
    expect((await call(admin, `${V3}/account/whoami`, { token: seed.bobToken })).status).toBe(401);
    expect((await call(admin, device, { method: "DELETE", token })).json).toEqual({});
    expect((await call(admin, device, { method: "DELETE", token })).status).toBe(200);
    expect((await call(admin, device, { token })).status).toBe(404);
    expect(admin.devicesOf(seed.bob)).toEqual([]);
  });

  it("pages through users to the end with next_token", async () => {
    for (const name of ["carol", "dave", "erin"]) {
      admin.addUser({
        userId: `@${name}:localhost`,
        password: "p",
        displayName: name.toUpperCase(),
      });
    }
    admin.addUser({ userId: "@zed:localhost", password: "p", deactivated: true });
    const names: string[] = [];
    let from: string | undefined = "0";
    let pages = 0;
    while (from !== undefined) {
      const page = await call(admin, `${ADMIN}/users?from=${from}&limit=2`, {
        token: seed.aliceToken,
      });
      expect(page.json.total).toBe(5);
      names.push(...page.json.users.map((u: { name: string }) => u.name));
      from = page.json.next_token;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(names).toEqual([
      "@alice:localhost",
      "@bob:localhost",
      "@carol:localhost",
      "@dave:localhost",
      "@erin:localhost",
    ]);
    const all = await call(admin, `${ADMIN}/users?deactivated=true&name=e`, {
      token: seed.aliceToken,
    });
    expect(all.json.users.map((u: { name: string }) => u.name)).toEqual([
      "@alice:localhost",
      "@dave:localhost",
      "@erin:localhost",
      "@zed:localhost",
    ]);
    expect(all.json.next_token).toBeUndefined();
    expect(all.json.users[3]).toMatchObject({ admin: false, deactivated: true, displayname: null });
  });
});

describe("OAuth-delegated auth (MAS)", () => {
  it("publishes auth metadata and refuses device deletion only while delegated", async () => {
    const { tokens } = newUser(hs, ["M1", "M2"]);
    const token = tokens[0];
    const metadata = [
      "/_matrix/client/v1/auth_metadata",
      "/_matrix/client/unstable/org.matrix.msc2965/auth_metadata",
    ];
    for (const path of metadata) expect((await call(hs, path)).json.errcode).toBe("M_UNRECOGNIZED");

    hs.setAuthDelegated("https://account.example.org/account/");
    try {
      for (const path of metadata) {
        const answer = await call(hs, path);
        expect(answer.status).toBe(200);
        expect(answer.json).toMatchObject({
          issuer: `${hs.url}/`,
          account_management_uri: "https://account.example.org/account/",
          authorization_endpoint: expect.any(String),
          token_endpoint: expect.any(String),
        });
        expect(answer.json.account_management_actions_supported).toContain(
          "org.matrix.device_delete",
        );
      }
      const single = await call(hs, `${V3}/devices/M2`, { method: "DELETE", token, body: {} });
      expect([single.status, single.json]).toEqual([
        404,
        error("M_UNRECOGNIZED", "Unrecognized request"),
      ]);
      const bulk = await call(hs, `${V3}/delete_devices`, {
        method: "POST",
        token,
        body: { devices: ["M2"] },
      });
      expect([bulk.status, bulk.json.errcode]).toEqual([404, "M_UNRECOGNIZED"]);
      expect((await call(hs, `${V3}/devices`, { token })).json.devices).toHaveLength(2);
    } finally {
      hs.setAuthDelegated(null);
    }
    expect((await call(hs, metadata[0] ?? "")).status).toBe(404);
    expect((await call(hs, `${V3}/devices/M2`, { method: "DELETE", token })).status).toBe(401);
  });
});
