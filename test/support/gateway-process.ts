import { type ChildProcess, spawn } from "node:child_process";

/** The real gateway process (`node --import tsx src/main.ts`), as deployed. */
export interface GatewayProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves to the base URL once it listens (rejects when it exits first). */
  listening: Promise<string>;
  /** Resolves to the exit code. */
  exited: Promise<number | null>;
}

export function spawnGateway(env: Record<string, string>): GatewayProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
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
