import type { FakeHomeserver } from "./fake-homeserver.ts";
import { NOW } from "./fixtures.ts";

export const ROOT = "@root:localhost";
export const ROOT_PASSWORD = "root-password-42";
export const DAY = 24 * 3600_000;

/** A server admin with one device (its token is returned). Call after `seedAlice`. */
export function seedAdmin(fake: FakeHomeserver): string {
  fake.addUser({ userId: ROOT, password: ROOT_PASSWORD, displayName: "Root", admin: true });
  return fake.addDevice(ROOT, { deviceId: "ROOTPC", displayName: "Admin console" });
}

/** Admin API requests (any method) whose raw path contains `part`. */
export function adminCalls(fake: FakeHomeserver, part = "") {
  return fake.requests.filter(
    (r) => r.path.startsWith("/_synapse/admin/") && r.path.includes(part),
  );
}

export { NOW };
