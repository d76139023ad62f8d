import { type ChildProcess, execFileSync, fork, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import type { LastSeenStats } from "../src/cache/last-seen-store.ts";
import { gatewayNodeArgs } from "./gateway-command.ts";
import { cpuMicros, peakRssMb } from "./proc-stats.ts";

/**
 * `npm run bench`: one run, one table. The fake homeserver and the gateway each run in their own
 * process on loopback; autocannon runs here. Bounded: every scenario lasts WARMUP_S + DURATION_S
 * seconds.
 */
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 2);
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

interface GatewayRun {
  url: string;
  pid: number;
  child: ChildProcess;
  /** stdout lines (JSON logs), when piped */
  lines: string[];
}

/** BENCH_TSX=1 runs src/ through tsx instead of the bundle; BENCH_PROFILE=dir writes --cpu-prof. */
function gatewayCommand(): string[] {
  return VIA_TSX ? ["--import", "tsx", "src/main.ts"] : gatewayNodeArgs();
}

async function startGateway(fakeUrl: string, env: Record<string, string>): Promise<GatewayRun> {
  const port = await freePort();
  const profile = PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, ...gatewayCommand()], {
    env: {
      ...process.env,
      MATRIX_HOMESERVER_URL: fakeUrl,
      PORT: String(port),
      LOG_LEVEL: "warn",
      DATABASE_URL: `file:${join(mkdtempSync(join(tmpdir(), "mdg-bench-")), "bench.db")}`,
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: string[] = [];
  let rest = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split("\n");
    rest = parts.pop() ?? "";
    // Keep only what the bench reads: request lines at info level would pile up otherwise.
    lines.push(...parts.filter((line) => line.includes("last-seen cache closed")));
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`);
  return { url, pid: child.pid ?? 0, child, lines };
}

async function stopGateway(run: GatewayRun): Promise<void> {
  const exited = new Promise((resolve) => run.child.once("exit", resolve));
  run.child.kill("SIGTERM");
  await exited;
}

async function main() {
  const fake = fork(new URL("./fake-server.ts", import.meta.url), {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const info = await ask<FakeInfo>(fake, "", "url");
  if (!VIA_TSX) execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
  const cached = await startGateway(info.url, {});
  const uncached = await startGateway(info.url, { CACHE: "off" });
  const rows: Row[] = [];
  const runs: GatewayRun[] = [cached, uncached];
  try {
    const auth = { authorization: `Bearer ${info.token}` };
    const gql = (gateway: GatewayRun, query: string) => ({
      url: `${gateway.url}/graphql`,
      method: "POST" as const,
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ query }),
    });
    const lookups = info.deviceIds
      .map((id, i) => `d${i}: device(deviceId: "${id}") { deviceId displayName lastSeenTs }`)
      .join(" ");
    const devices = "{ devices { deviceId displayName lastSeenIp lastSeenTs } }";
    const scenarios = [
      {
        name: "(a) GET /devices, straight to the fake",
        options: { url: `${info.url}/_matrix/client/v3/devices`, headers: auth },
        gateway: null,
      },
      { name: "(b) devices query via the gateway", options: gql(cached, devices), gateway: cached },
      {
        name: "(c) 20 device(deviceId) lookups via the gateway",
        options: gql(cached, `{ ${lookups} }`),
        gateway: cached,
      },
      {
        name: "(d) devices query, gateway with CACHE=off",
        options: gql(uncached, devices),
        gateway: uncached,
      },
    ];
    for (const scenario of scenarios) {
      rows.push(await measure(fake, scenario.name, scenario.options, scenario.gateway));
    }
    const peak = peakRssMb(cached.pid);
    const peakUncached = peakRssMb(uncached.pid);

    // Write-heavy: every device's last-seen changes between answers; a fresh gateway and database.
    const heavy = await startGateway(info.url, { LOG_LEVEL: "info" });
    runs.push(heavy);
    await ask(fake, "churn", "churning");
    const started = performance.now();
    rows.push(
      await measure(fake, "(e) devices query, last-seen changing", gql(heavy, devices), heavy),
    );
    await ask(fake, "calm", "churning");
    await stopGateway(heavy);
    const seconds = (performance.now() - started) / 1000;
    const closed = heavy.lines.at(-1);
    const stats = closed ? (JSON.parse(closed).stats as LastSeenStats) : null;

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
    const [a, b, c, d, e] = rows;
    if (a && b && c && d && e) {
      console.log(
        `(b)/(a) throughput ratio: ${(b.reqPerS / a.reqPerS).toFixed(3)}  (target >= 0.10)`,
      );
      console.log(
        `(c)/(b) throughput ratio: ${(c.reqPerS / b.reqPerS).toFixed(3)}  (target >= 0.50)`,
      );
      console.log(`(c) upstream calls per request: ${c.upstreamPerReq}  (target 1)`);
      console.log(
        `(b)/(d) cache on vs off throughput ratio: ${(b.reqPerS / d.reqPerS).toFixed(3)}  (target >= 0.90)`,
      );
    }
    if (stats) {
      console.log(
        `(e) write-heavy: ${Math.round(stats.written / seconds)} device writes/s, ` +
          `${Math.round(stats.sightings / seconds)} history rows/s, ${stats.batches} batches, ` +
          `queue depth max ${stats.maxQueued} (left ${stats.queued}), dropped ${stats.dropped}, ` +
          `failures ${stats.failures}`,
      );
    }
    console.log(
      `gateway peak RSS: ${peak.toFixed(1)} MB, with CACHE=off ${peakUncached.toFixed(1)} MB  (target <= 150)`,
    );
  } finally {
    for (const run of runs) if (run.child.exitCode === null) run.child.kill("SIGTERM");
    fake.disconnect();
  }
}

async function measure(
  fake: ChildProcess,
  scenario: string,
  options: autocannon.Options,
  gateway: GatewayRun | null,
): Promise<Row> {
  // Steady state only: the same request first, so JIT tiers and caches are warm for it.
  await autocannon({ ...options, connections: CONNECTIONS, duration: WARMUP_S });
  await ask(fake, "clear", "cleared");
  const cpuBefore = gateway ? cpuMicros(gateway.pid) : 0;
  const result = await autocannon({ ...options, connections: CONNECTIONS, duration: DURATION_S });
  const cpu = gateway ? cpuMicros(gateway.pid) - cpuBefore : 0;
  const { count } = await ask<{ count: number }>(fake, "count", "count");
  const total = result.requests.total || 1;
  return {
    scenario,
    reqPerS: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx + result.errors,
    cpuUsPerReq: gateway ? Math.round(cpu / total) : null,
    upstreamPerReq: gateway ? Number((count / total).toFixed(2)) : 1,
  };
}

await main();
