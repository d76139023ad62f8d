import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** The gateway as `npm start` runs it, in a child process: for signals, RSS and load. */
export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  pid: number;
  /** stdout + stderr so far. */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * What `npm start` runs: its node flags (read from package.json) and the esbuild bundle, built
 * once per test process.
 */
let built = false;
function startCommand(): string[] {
  if (!built) {
    execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
    built = true;
  }
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  const words = String(pkg.scripts.start).split(/\s+/);
  if (words[0] !== "node") throw new Error(`unexpected start script: ${pkg.scripts.start}`);
  return words.slice(1);
}

export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, startCommand(), {
    env: { ...process.env, PORT: String(port), LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c;
  });
  child.stderr?.on("data", (c: Buffer) => {
    out += c;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (i > 200 || child.exitCode !== null) throw new Error(`gateway did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url, pid: child.pid ?? 0, output: () => out, exited };
}
/** The gateway as `npm start` runs it, on port 0, followed through its log lines. */
export interface LoggedGatewayProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves to the base URL once it listens (rejects when it exits first). */
  listening: Promise<string>;
  /** Resolves to the exit code. */
  exited: Promise<number | null>;
}

export function spawnGateway(env: Record<string, string>): LoggedGatewayProcess {
  const child = spawn(process.execPath, startCommand(), {
    env: { ...process.env, PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        stdout.push(line);
        if (line.includes('"gateway listening"')) {
          resolve((JSON.parse(line).url as string).replace(/\/graphql$/, ""));
        }
      }
    });
    child.stderr?.on("data", (chunk: Buffer) =>
      stderr.push(...chunk.toString().split("\n").filter(Boolean)),
    );
    void exited.then((code) =>
      reject(new Error(`gateway exited (${code}): ${stderr.join(" | ")}`)),
    );
  });
  listening.catch(() => {});
  return { child, stdout, stderr, listening, exited };
}

export async function gql(url: string, query: string, token: string) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  return (await response.json()) as any;
}
