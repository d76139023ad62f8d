import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ALICE, NOW, seedAlice } from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

let h: Harness;
let tokens: ReturnType<typeof seedAlice>;

beforeAll(async () => {
  h = await startHarness({ fake: { now: () => NOW } });
  tokens = seedAlice(h.fake);
});
afterAll(() => h.stop());
beforeEach(() => h.fake.clearFaults());

const RENAME = `mutation Rename($id: ID!, $name: String!) {
  renameDevice(deviceId: $id, displayName: $name) {
    __typename
    ... on DeviceRenamed { device { deviceId displayName isCurrent } }
    ... on DeviceNotFound { deviceId message }
    ... on Forbidden { errcode }
    ... on RateLimited { retryAfterMs message }
  }
}`;

describe("renameDevice", () => {
  it("renames and returns the device as the homeserver now has it", async () => {
    const { body } = await h.gql(RENAME, { id: "LAPTOP", name: "Work laptop" }, tokens.alice);
    expect(body).toEqual({
      data: {
        renameDevice: {
          __typename: "DeviceRenamed",
          device: { deviceId: "LAPTOP", displayName: "Work laptop", isCurrent: false },
        },
      },
    });
    expect(h.fake.devicesOf(ALICE).find((d) => d.deviceId === "LAPTOP")?.displayName).toBe(
      "Work laptop",
    );
  });

  it("returns DeviceNotFound for a device the homeserver does not have", async () => {
    const { body } = await h.gql(RENAME, { id: "NOPE", name: "x" }, tokens.alice);
    expect(body.data.renameDevice).toEqual({
      __typename: "DeviceNotFound",
      deviceId: "NOPE",
      message: expect.any(String),
    });
  });

  it("turns a name over the homeserver's limit into BAD_USER_INPUT with the errcode", async () => {
    const { body } = await h.gql(RENAME, { id: "LAPTOP", name: "x".repeat(101) }, tokens.alice);
    expect(body.data).toBeNull();
    expect(body.errors).toEqual([
      expect.objectContaining({
        path: ["renameDevice"],
        extensions: { code: "BAD_USER_INPUT", errcode: "M_TOO_LARGE" },
      }),
    ]);
  });

  it("returns RateLimited with the Retry-After header's wait", async () => {
    h.fake.inject({ kind: "rateLimit", retryAfterMs: 2500, header: true }, { match: "/devices/" });
    const { body } = await h.gql(RENAME, { id: "LAPTOP", name: "y" }, tokens.alice);
    // The header counts in whole seconds and wins over the body's retry_after_ms.
    expect(body.data.renameDevice).toEqual({
      __typename: "RateLimited",
      retryAfterMs: 3000,
      message: expect.any(String),
    });
  });

  it("returns RateLimited from the body's retry_after_ms when there is no header", async () => {
    h.fake.inject({ kind: "rateLimit", retryAfterMs: 1234, header: false }, { match: "/devices/" });
    const { body } = await h.gql(RENAME, { id: "LAPTOP", name: "y" }, tokens.alice);
    expect(body.data.renameDevice).toMatchObject({ __typename: "RateLimited", retryAfterMs: 1234 });
  });

  it("makes a rate-limited query a RATE_LIMITED request error", async () => {
    h.fake.inject({ kind: "rateLimit", retryAfterMs: 800, header: false }, { match: /\/devices$/ });
    const { body } = await h.gql("{ devices { deviceId } }", {}, tokens.alice);
    expect(body.errors[0].extensions).toEqual({ code: "RATE_LIMITED", retryAfterMs: 800 });
  });
});
