import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ALICE,
  ALICE_PASSWORD,
  BOB,
  BOB_PASSWORD,
  NOW,
  seedAlice,
  upstream,
} from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

let h: Harness;
let tokens: ReturnType<typeof seedAlice>;

// A fresh homeserver and gateway per test: deletions must not leak between tests.
beforeEach(async () => {
  h = await startHarness({ fake: { now: () => NOW } });
  tokens = seedAlice(h.fake);
});
afterEach(() => h.stop());

const DELETE = `mutation Delete($id: ID!, $auth: AuthInput) {
  deleteDevice(deviceId: $id, auth: $auth) {
    __typename
    ... on DeviceDeleted { deviceId }
    ... on AuthRequired {
      session completed params
      flows { stages }
      error { errcode message }
      fallbackUrl(stage: "m.login.password")
    }
    ... on Error { message }
    ... on DeviceNotFound { deviceId }
    ... on Forbidden { errcode }
    ... on RateLimited { retryAfterMs }
  }
}`;

describe("deleteDevice with user-interactive auth", () => {
  it("goes challenge, wrong password, right password, and the token is dead", async () => {
    const first = await h.gql(DELETE, { id: "PHONE" }, tokens.alice);
    const challenge = first.body.data.deleteDevice;
    expect(challenge).toEqual({
      __typename: "AuthRequired",
      session: expect.any(String),
      completed: [],
      params: {},
      flows: [{ stages: ["m.login.password"] }],
      error: null,
      fallbackUrl: `${h.fake.url}/_matrix/client/v3/auth/m.login.password/fallback/web?session=${encodeURIComponent(challenge.session)}`,
    });
    expect(h.fake.devicesOf(ALICE).map((d) => d.deviceId)).toContain("PHONE");

    const wrong = await h.gql(
      DELETE,
      {
        id: "PHONE",
        auth: { type: "m.login.password", session: challenge.session, password: "nope" },
      },
      tokens.alice,
    );
    expect(wrong.body.data.deleteDevice).toMatchObject({
      __typename: "AuthRequired",
      session: challenge.session,
      error: { errcode: "M_FORBIDDEN", message: expect.any(String) },
    });
    expect(h.fake.devicesOf(ALICE).map((d) => d.deviceId)).toContain("PHONE");

    const right = await h.gql(
      DELETE,
      {
        id: "PHONE",
        auth: { type: "m.login.password", session: challenge.session, password: ALICE_PASSWORD },
      },
      tokens.alice,
    );
    expect(right.body).toEqual({
      data: { deleteDevice: { __typename: "DeviceDeleted", deviceId: "PHONE" } },
    });
    expect(h.fake.devicesOf(ALICE).map((d) => d.deviceId)).not.toContain("PHONE");

    // The password went upstream as an m.id.user identifier for the viewer.
    const sent = upstream(h.fake, "DELETE", "/devices/PHONE").at(-1)?.body as {
      auth: Record<string, unknown>;
    };
    expect(sent.auth).toEqual({
      type: "m.login.password",
      session: challenge.session,
      identifier: { type: "m.id.user", user: ALICE },
      password: ALICE_PASSWORD,
    });

    const after = await h.gql("{ devices { deviceId } }", {}, tokens.alice);
    expect(after.body.errors[0].extensions).toEqual({
      code: "UNAUTHENTICATED",
      errcode: "M_UNKNOWN_TOKEN",
    });
    const viewer = await h.gql("{ viewer { userId } }", {}, tokens.alice);
    expect(viewer.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
  });

  it("answers a stale session with a fresh challenge that says why", async () => {
    const { body } = await h.gql(
      DELETE,
      {
        id: "LAPTOP",
        auth: { type: "m.login.password", session: "expired-session", password: ALICE_PASSWORD },
      },
      tokens.alice,
    );
    const result = body.data.deleteDevice;
    expect(result).toMatchObject({
      __typename: "AuthRequired",
      flows: [{ stages: ["m.login.password"] }],
      error: { errcode: "M_UNKNOWN", message: expect.any(String) },
    });
    expect(result.session).toEqual(expect.any(String));
    expect(result.session).not.toBe("expired-session");
    expect(h.fake.devicesOf(ALICE).map((d) => d.deviceId)).toContain("LAPTOP");
  });

  it("returns Forbidden for another user's credentials", async () => {
    const first = await h.gql(DELETE, { id: "LAPTOP" }, tokens.alice);
    const { session } = first.body.data.deleteDevice;
    const { body } = await h.gql(
      DELETE,
      {
        id: "LAPTOP",
        auth: { type: "m.login.password", session, user: BOB, password: BOB_PASSWORD },
      },
      tokens.alice,
    );
    expect(body.data.deleteDevice).toEqual({
      __typename: "Forbidden",
      errcode: "M_FORBIDDEN",
      message: expect.any(String),
    });
    expect(h.fake.devicesOf(ALICE).map((d) => d.deviceId)).toContain("LAPTOP");
  });

  it("deletes an unknown device as the homeserver does: 200 after UIA", async () => {
    const first = await h.gql(DELETE, { id: "NEVER" }, tokens.alice);
    const { session } = first.body.data.deleteDevice;
    const { body } = await h.gql(
      DELETE,
      { id: "NEVER", auth: { type: "m.login.password", session, password: ALICE_PASSWORD } },
      tokens.alice,
    );
    expect(body.data.deleteDevice).toEqual({ __typename: "DeviceDeleted", deviceId: "NEVER" });
  });

  it("passes session and extra through for other stage types", async () => {
    await h.gql(
      DELETE,
      { id: "LAPTOP", auth: { type: "m.login.dummy", session: "s1", extra: { foo: [1, "two"] } } },
      tokens.alice,
    );
    const sent = upstream(h.fake, "DELETE", "/devices/LAPTOP")[0]?.body;
    expect(sent).toEqual({ auth: { type: "m.login.dummy", session: "s1", foo: [1, "two"] } });
  });

  it("refuses m.login.password without a password before calling upstream", async () => {
    h.fake.clearLog();
    const { body } = await h.gql(
      DELETE,
      { id: "LAPTOP", auth: { type: "m.login.password", session: "s" } },
      tokens.alice,
    );
    expect(body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    expect(upstream(h.fake, "DELETE", "/devices/LAPTOP")).toHaveLength(0);
  });
});

const DELETE_MANY = `mutation Delete($ids: [ID!]!, $auth: AuthInput) {
  deleteDevices(deviceIds: $ids, auth: $auth) {
    __typename
    ... on DevicesDeleted { deviceIds }
    ... on AuthRequired { session error { errcode } }
    ... on Forbidden { errcode }
    ... on RateLimited { retryAfterMs }
  }
}`;

describe("deleteDevices", () => {
  it("deletes several devices after one UIA round trip", async () => {
    const ids = ["LAPTOP", "UNUSED", "a/b"];
    const first = await h.gql(DELETE_MANY, { ids }, tokens.alice);
    expect(first.body.data.deleteDevices).toMatchObject({
      __typename: "AuthRequired",
      error: null,
    });
    const { session } = first.body.data.deleteDevices;
    const done = await h.gql(
      DELETE_MANY,
      { ids, auth: { type: "m.login.password", session, password: ALICE_PASSWORD } },
      tokens.alice,
    );
    expect(done.body).toEqual({
      data: { deleteDevices: { __typename: "DevicesDeleted", deviceIds: ids } },
    });
    expect(h.fake.devicesOf(ALICE).map((d) => d.deviceId)).toEqual(["../../x", "PHONE"]);
    expect(upstream(h.fake, "POST", "/delete_devices").at(-1)?.body).toMatchObject({
      devices: ids,
    });
  });

  it("refuses more ids than MAX_BULK_DEVICES, and an empty list, without calling upstream", async () => {
    h.fake.clearLog();
    const many = Array.from({ length: 101 }, (_, i) => `D${i}`);
    const over = await h.gql(DELETE_MANY, { ids: many }, tokens.alice);
    expect(over.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    const none = await h.gql(DELETE_MANY, { ids: [] }, tokens.alice);
    expect(none.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    expect(upstream(h.fake, "POST", "/delete_devices")).toHaveLength(0);
  });
});
