import { type ChildProcess, execFileSync, fork, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { cpuMicros, peakRssMb } from "./proc-stats.ts";

/**
 * `npm run bench`: one run, one table. The fake homeserver and the gateway each run in their own
 * process on loopback; autocannon runs here. Bounded: every scenario lasts DURATION_S seconds.
 */
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
/** BENCH_PROFILE=dir writes the gateway's --cpu-prof there; BENCH_TSX=1 runs src/ through tsx. */
const PROFILE_DIR = process.env.BENCH_PROFILE;
const VIA_TSX = process.env.BENCH_TSX === "1";

interface FakeInfo {
  url: string;
  token: string;
  deviceIds: string[];
}

function ask<T>(child: ChildProcess, message: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (reply: Record<string, unknown>) => {
      if (key in reply) {
        child.off("message", onMessage);
        resolve(reply as T);
      }
    };
    child.on("message", onMessage);
    if (message) child.send(message);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

interface Row {
  scenario: string;
  reqPerS: number;
  p50: number;
  p99: number;
  non2xx: number;
  cpuUsPerReq: number | null;
  upstreamPerReq: number;
}

async function main() {
  const fake = fork(new URL("./fake-server.ts", import.meta.url), {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const info = await ask<FakeInfo>(fake, "", "url");
  const port = await freePort();
  // What `npm start` runs: the esbuild bundle of src/main.ts (BENCH_TSX=1: tsx, as in development).
  if (!VIA_TSX) execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
  // The same node flags as `npm start` (package.json), so the bench measures what ships;
  // BENCH_NODE_FLAGS replaces them for experiments.
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  const startFlags = (process.env.BENCH_NODE_FLAGS ?? String(pkg.scripts.start))
    .split(/\s+/)
    .filter((word) => word.startsWith("--"));
  const entry = VIA_TSX ? ["--import", "tsx", "src/main.ts"] : [...startFlags, "dist/main.js"];
  const profile = PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const gateway = spawn(process.execPath, [...profile, ...entry], {
    env: {
      ...process.env,
      MATRIX_HOMESERVER_URL: info.url,
      PORT: String(port),
      LOG_LEVEL: "warn",
      DATABASE_URL: `file:${join(mkdtempSync(join(tmpdir(), "mdg-bench-")), "bench.db")}`,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const pid = gateway.pid ?? 0;
  const rows: Row[] = [];
  try {
    await waitFor(`${gatewayUrl}/healthz`);
    const auth = { authorization: `Bearer ${info.token}` };
    const gql = (query: string) => ({
      url: `${gatewayUrl}/graphql`,
      method: "POST" as const,
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ query }),
    });
    const lookups = info.deviceIds
      .map((id, i) => `d${i}: device(deviceId: "${id}") { deviceId displayName lastSeenTs }`)
      .join(" ");
    const scenarios = [
      {
        name: "(a) GET /devices, straight to the fake",
        options: { url: `${info.url}/_matrix/client/v3/devices`, headers: auth },
        gatewayCpu: false,
      },
      {
        name: "(b) devices query via the gateway",
        options: gql("{ devices { deviceId displayName lastSeenIp lastSeenTs } }"),
        gatewayCpu: true,
      },
      {
        name: "(c) 20 device(deviceId) lookups via the gateway",
        options: gql(`{ ${lookups} }`),
        gatewayCpu: true,
      },
    ];
    // BENCH_ONLY=b (or "bc", …) runs only those scenarios, e.g. to profile one.
    const only = process.env.BENCH_ONLY;
    const chosen = only ? scenarios.filter((s) => only.includes(s.name[1] ?? "")) : scenarios;
    // Warm-up: JIT, pools, whoami and versions caches.
    const devicesQuery = gql("{ devices { deviceId } }");
    await autocannon({ ...devicesQuery, connections: 4, duration: 2 });
    for (const scenario of chosen) {
      await ask(fake, "clear", "cleared");
      const cpuBefore = cpuMicros(pid);
      const result = await autocannon({
        ...scenario.options,
        connections: CONNECTIONS,
        duration: DURATION_S,
      });
      const cpu = cpuMicros(pid) - cpuBefore;
      const { count } = await ask<{ count: number }>(fake, "count", "count");
      const total = result.requests.total || 1;
      rows.push({
        scenario: scenario.name,
        reqPerS: Math.round(result.requests.average),
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx + result.errors,
        cpuUsPerReq: scenario.gatewayCpu ? Math.round(cpu / total) : null,
        upstreamPerReq: scenario.gatewayCpu ? Number((count / total).toFixed(2)) : 1,
      });
    }
    const peak = peakRssMb(pid);
    console.log(
      `\nmatrix-device-gateway bench: ${CONNECTIONS} connections, ${DURATION_S} s each, one run\n`,
    );
    console.table(
      rows.map((r) => ({
        scenario: r.scenario,
        "req/s": r.reqPerS,
        "p50 ms": r.p50,
        "p99 ms": r.p99,
        "non-2xx+errors": r.non2xx,
        "gateway CPU µs/req": r.cpuUsPerReq ?? "-",
        "upstream calls/req": r.upstreamPerReq,
      })),
    );
    const [a, b, c] = rows;
    if (a && b && c) {
      console.log(
        `(b)/(a) throughput ratio: ${(b.reqPerS / a.reqPerS).toFixed(3)}  (target >= 0.10)`,
      );
      console.log(
        `(c)/(b) throughput ratio: ${(c.reqPerS / b.reqPerS).toFixed(3)}  (target >= 0.50)`,
      );
      console.log(`(c) upstream calls per request: ${c.upstreamPerReq}  (target 1)`);
    }
    console.log(`gateway peak RSS: ${peak.toFixed(1)} MB  (target <= 150)`);
  } finally {
    const exited = new Promise((resolve) => gateway.once("exit", resolve));
    gateway.kill("SIGTERM");
    await exited; // a --cpu-prof profile is written on exit
    fake.disconnect();
  }
}

await main();
