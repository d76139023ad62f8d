import { type ChildProcess, execFileSync, fork, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { gatewayNodeArgs } from "./gateway-command.ts";

/**
 * `npm run bench:instructions`: machine instructions per (b) devices query, counted by valgrind's
 * callgrind in the gateway process (all its threads). Counts barely move when the machine is busy,
 * unlike CPU time, so two builds compare in one run each (BENCH_ENTRY=dist/other.js). Slow: the
 * gateway runs ~50x slower under valgrind, so it answers WARM requests first, then counts N.
 */
const WARM = Number(process.env.BENCH_WARM ?? 1500);
const N = Number(process.env.BENCH_N ?? 500);
const QUERY = "{ devices { deviceId displayName lastSeenIp lastSeenTs } }";

function waitForMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve) => child.once("message", resolve));
}

const fake = fork(new URL("./fake-server.ts", import.meta.url), {
  execArgv: ["--import", "tsx"],
  stdio: ["ignore", "inherit", "inherit", "ipc"],
});
const info = await waitForMessage<{ url: string; token: string }>(fake);
if (!process.env.BENCH_ENTRY)
  execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
const dir = mkdtempSync(join(tmpdir(), "mdg-instructions-"));
const port = 20000 + Math.floor(Math.random() * 20000);
const gateway = spawn(
  "valgrind",
  [
    "--tool=callgrind",
    "--instr-atstart=no",
    `--log-file=${join(dir, "valgrind.log")}`,
    `--callgrind-out-file=${join(dir, "callgrind.%p")}`,
    process.execPath,
    ...gatewayNodeArgs(process.env.BENCH_ENTRY),
  ],
  {
    env: {
      ...process.env,
      MATRIX_HOMESERVER_URL: info.url,
      PORT: String(port),
      LOG_LEVEL: "warn",
      DATABASE_URL: `file:${join(dir, "bench.db")}`,
    },
    stdio: ["ignore", "ignore", "inherit"],
  },
);
try {
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (i > 600) throw new Error("the gateway did not come up under valgrind");
    await new Promise((r) => setTimeout(r, 200));
  }
  const request = {
    url: `${url}/graphql`,
    method: "POST" as const,
    headers: { authorization: `Bearer ${info.token}`, "content-type": "application/json" },
    body: JSON.stringify({ query: QUERY }),
    connections: 8,
  };
  await autocannon({ ...request, amount: WARM });
  execFileSync("callgrind_control", ["--instr=on", String(gateway.pid)], { stdio: "ignore" });
  const result = await autocannon({ ...request, amount: N });
  execFileSync("callgrind_control", ["--dump", String(gateway.pid)], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 1000));
  let instructions = 0;
  for (const file of readdirSync(dir).filter((name) => name.startsWith("callgrind."))) {
    instructions += Number(
      /^summary: (\d+)/m.exec(readFileSync(join(dir, file), "utf8"))?.[1] ?? 0,
    );
  }
  console.log(
    `(b) devices query: ${Math.round(instructions / result.requests.total / 1000)}k instructions ` +
      `per request over ${result.requests.total} requests (${result.non2xx} non-2xx)`,
  );
} finally {
  gateway.kill("SIGKILL");
  fake.disconnect();
}
