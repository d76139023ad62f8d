import type { FakeHomeserver } from "./fake-homeserver.ts";
import { ALICE, ALICE_PASSWORD } from "./fixtures.ts";

/** Deletes devices at the homeserver behind the gateway's back (another client did it). */
export async function deleteUpstream(fake: FakeHomeserver, token: string, deviceIds: string[]) {
  const post = (body: unknown) =>
    fetch(`${fake.url}/_matrix/client/v3/delete_devices`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const challenge = (await (await post({ devices: deviceIds })).json()) as { session: string };
  const auth = {
    type: "m.login.password",
    session: challenge.session,
    identifier: { type: "m.id.user", user: ALICE },
    password: ALICE_PASSWORD,
  };
  const done = await post({ devices: deviceIds, auth });
  if (done.status !== 200) throw new Error(`delete_devices answered ${done.status}`);
}

export const DEVICES = `{
  viewer { userId }
  devices { deviceId source firstObservedAt lastObservedAt lastSeenIp lastSeenTs }
}`;
