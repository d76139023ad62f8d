import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { FakeHomeserver } from "../support/fake-homeserver.ts";

const ROOT = new URL("../../", import.meta.url);

/** Runs `npm start`'s entry point as a real process. */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

let fake: FakeHomeserver | null = null;
afterEach(async () => {
  await fake?.stop();
  fake = null;
});

describe("npm start", () => {
  it("exits non-zero with one line naming a missing variable", async () => {
    const run = start({});
    expect(await run.exited).toBe(2);
    expect(run.err()).toBe(
      "matrix-device-gateway: MATRIX_HOMESERVER_URL: required, the homeserver's base URL (e.g. https://matrix.example.org)\n",
    );
  });

  it("exits non-zero with one line naming an invalid variable", async () => {
    const run = start({ MATRIX_HOMESERVER_URL: "http://127.0.0.1:1", PORT: "http" });
    expect(await run.exited).toBe(2);
    expect(run.err().trim().split("\n")).toEqual([
      'matrix-device-gateway: PORT: expected an integer from 0 to 65535, got "http"',
    ]);
  });

  it("serves, then stops cleanly on SIGTERM", async () => {
    fake = await FakeHomeserver.start();
    const run = start({ MATRIX_HOMESERVER_URL: fake.url, PORT: "0", LOG_LEVEL: "info" });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const match = /"url":"(http:\/\/[^"]+)\/graphql"/.exec(run.out());
        if (match?.[1]) {
          clearInterval(timer);
          resolve(match[1]);
        }
      }, 50);
      run.exited.then(() => reject(new Error(`exited early: ${run.err()}`)));
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    expect(run.out()).toContain('"msg":"stopped"');
  });
});
