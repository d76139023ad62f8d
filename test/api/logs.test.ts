import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALICE_PASSWORD, NOW, seedAlice } from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ fake: { now: () => NOW } });
});
afterAll(() => h.stop());

describe("logs", () => {
  it("show each upstream call by template and never a token or a password", async () => {
    const tokens = seedAlice(h.fake);
    const DELETE = `mutation($auth: AuthInput) { deleteDevice(deviceId: "LAPTOP", auth: $auth) {
      __typename ... on AuthRequired { session } } }`;
    const first = await h.gql(DELETE, {}, tokens.alice);
    const session = first.body.data.deleteDevice.session;
    await h.gql(
      DELETE,
      { auth: { type: "m.login.password", session, password: "wrong-pass-123" } },
      tokens.alice,
    );
    await h.gql(
      DELETE,
      { auth: { type: "m.login.password", session, password: ALICE_PASSWORD } },
      tokens.alice,
    );
    await h.gql("{ devices { deviceId } }", {}, "unknown-token-xyz");

    const text = h.logs.join("\n");
    expect(text).toContain("--> DELETE /_matrix/client/v3/devices/{deviceId}");
    expect(text).toMatch(/<-- 401 \d+ ms/);
    expect(text).toMatch(/<-- 200 \d+ ms/);
    for (const secret of [tokens.alice, "unknown-token-xyz", "wrong-pass-123", ALICE_PASSWORD]) {
      expect(text).not.toContain(secret);
    }
  });
});
