import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { ClientServerApi, pickClientVersion } from "../../src/homeserver/client-server.ts";
import {
  HomeserverBadResponse,
  HomeserverTimeout,
  HomeserverUnreachable,
  MatrixError,
  UiaChallenge,
} from "../../src/homeserver/errors.ts";
import { fillPath, HomeserverHttp } from "../../src/homeserver/http.ts";
import { createLogger } from "../../src/logger.ts";
import { FakeHomeserver } from "../support/fake-homeserver.ts";
import { ALICE, seedAlice } from "../support/fixtures.ts";

let fake: FakeHomeserver | null = null;
let http: HomeserverHttp | null = null;
afterEach(async () => {
  await http?.close();
  await fake?.stop();
  fake = null;
  http = null;
});

async function client(options: { versions?: string[]; timeoutMs?: number } = {}) {
  fake = await FakeHomeserver.start({ versions: options.versions });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _e, done) {
      lines.push(String(chunk));
      done();
    },
  });
  http = new HomeserverHttp({
    baseUrl: fake.url,
    timeoutMs: options.timeoutMs ?? 5000,
    logger: createLogger("debug", sink),
  });
  return { api: new ClientServerApi(http), fake, lines, tokens: seedAlice(fake) };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("path templates", () => {
  it("encode every parameter as one segment", () => {
    expect(fillPath("/devices/{deviceId}", { deviceId: "../../x" })).toBe("/devices/..%2F..%2Fx");
    expect(fillPath("/u/{userId}/d/{deviceId}", { userId: "@a:b", deviceId: "a/b?c#d" })).toBe(
      "/u/%40a%3Ab/d/a%2Fb%3Fc%23d",
    );
  });
});

describe("version discovery", () => {
  it("picks v3 from v1.1 on and r0 before", () => {
    expect(pickClientVersion(["r0.6.1", "v1.1"])).toBe("v3");
    expect(pickClientVersion(["v1.11"])).toBe("v3");
    expect(pickClientVersion(["v2.0"])).toBe("v3");
    expect(pickClientVersion(["r0.5.0", "r0.6.1", "v1.0"])).toBe("r0");
    expect(pickClientVersion([])).toBe("r0");
  });

  it("asks GET /versions once for many calls", async () => {
    const { api, fake, tokens } = await client();
    await Promise.all([api.listDevices(tokens.alice), api.whoami(tokens.alice)]);
    await api.getDevice(tokens.alice, "LAPTOP");
    expect(fake.requests.filter((r) => r.path === "/_matrix/client/versions")).toHaveLength(1);
  });
});

describe("typed errors", () => {
  it("turns a 401 with flows into a UiaChallenge", async () => {
    const { api, tokens } = await client();
    const error = await caught(api.deleteDevice(tokens.alice, "LAPTOP", null));
    expect(error).toBeInstanceOf(UiaChallenge);
    expect((error as UiaChallenge).flows).toEqual([{ stages: ["m.login.password"] }]);
    expect((error as UiaChallenge).errcode).toBeNull();
  });

  it("turns other answers into MatrixError with status and errcode", async () => {
    const { api, tokens } = await client();
    const error = await caught(api.getDevice(tokens.alice, "NOPE"));
    expect(error).toBeInstanceOf(MatrixError);
    expect(error).toMatchObject({ status: 404, errcode: "M_NOT_FOUND", retryAfterMs: null });
  });

  it("reads Retry-After before the body's retry_after_ms", async () => {
    const { api, fake, tokens } = await client();
    fake.inject({ kind: "rateLimit", retryAfterMs: 4200, header: true });
    expect(await caught(api.listDevices(tokens.alice))).toMatchObject({
      status: 429,
      errcode: "M_LIMIT_EXCEEDED",
      retryAfterMs: 5000,
    });
    fake.inject({ kind: "rateLimit", retryAfterMs: 4200, header: false });
    expect(await caught(api.listDevices(tokens.alice))).toMatchObject({ retryAfterMs: 4200 });
    fake.inject({ kind: "rateLimit", retryAfterMs: 4200, header: false, body: false });
    expect(await caught(api.listDevices(tokens.alice))).toMatchObject({ retryAfterMs: null });
  });

  it("distinguishes unreachable, timed out and malformed answers", async () => {
    const { api, fake, tokens } = await client({ timeoutMs: 200 });
    await api.versions();
    fake.inject({ kind: "hang" });
    expect(await caught(api.listDevices(tokens.alice))).toBeInstanceOf(HomeserverTimeout);
    // GET retries twice after a reset or a 503: three in a row exhaust it.
    fake.inject({ kind: "reset" }, { times: 3 });
    expect(await caught(api.listDevices(tokens.alice))).toBeInstanceOf(HomeserverUnreachable);
    fake.inject({ kind: "status", status: 503 }, { times: 3 });
    expect(await caught(api.listDevices(tokens.alice))).toBeInstanceOf(HomeserverUnreachable);
    await fake.stop();
    expect(await caught(api.listDevices(tokens.alice))).toBeInstanceOf(HomeserverUnreachable);
  });

  it("rejects a 2xx body that is not what the spec promises", async () => {
    const { api, fake, tokens } = await client();
    fake.inject({ kind: "status", status: 200 });
    expect(await caught(api.listDevices(tokens.alice))).toBeInstanceOf(HomeserverBadResponse);
  });
});

describe("devices", () => {
  it("parses devices, absent last-seen fields as null", async () => {
    const { api, tokens } = await client();
    const devices = await api.listDevices(tokens.alice);
    expect(devices.find((d) => d.deviceId === "UNUSED")).toEqual({
      deviceId: "UNUSED",
      displayName: null,
      lastSeenIp: null,
      lastSeenTs: null,
      lastSeenUserAgent: null,
    });
    expect(await api.whoami(tokens.alice)).toEqual({ userId: ALICE, deviceId: "PHONE" });
  });
});

describe("logs", () => {
  it("log the template and status, never the token", async () => {
    const { api, lines, tokens } = await client();
    await api.getDevice(tokens.alice, "a/b");
    const text = lines.join("");
    expect(text).toContain('"msg":"--> GET /_matrix/client/v3/devices/{deviceId}"');
    expect(text).toMatch(/"msg":"<-- 200 \d+ ms"/);
    expect(text).not.toContain(tokens.alice);
    expect(text).not.toContain("a%2Fb");
  });
});
