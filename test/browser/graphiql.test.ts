import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";

/**
 * A real browser against `npm run demo`: Debian's Chromium, driven by playwright-core, opens
 * GraphiQL, runs the preset devices query and must see alice's device ids on the page.
 * .ci/run installs Chromium; elsewhere the test is skipped unless REQUIRE_BROWSER is set.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const required = process.env.REQUIRE_BROWSER === "1" || process.env.CI === "true";
const available = existsSync(CHROMIUM);

let demo: ChildProcess | null = null;
afterAll(() => {
  if (demo?.pid) process.kill(-demo.pid, "SIGTERM");
});

function startDemo(): Promise<string> {
  return new Promise((resolve, reject) => {
    demo = spawn("npm", ["run", "demo"], {
      env: { ...process.env, PORT: "0", LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "inherit"],
      detached: true, // its own process group, so afterAll stops npm and the node under it
    });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${out}`)), 30_000);
    demo.stdout?.on("data", (chunk: Buffer) => {
      out += chunk;
      const match = /GraphiQL:\s+(http:\/\/\S+\/graphql)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    demo.on("exit", (code) => reject(new Error(`demo exited with ${code}:\n${out}`)));
  });
}

describe("GraphiQL in headless Chromium", () => {
  it.skipIf(!available && !required)(
    "runs the devices query from the demo's GraphiQL and shows the device ids",
    async () => {
      expect(available, `${CHROMIUM} is missing (apt-get install -y chromium)`).toBe(true);
      const url = await startDemo();
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      });
      try {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on("pageerror", (error) => problems.push(error.message));
        page.on("console", (message) => {
          if (message.type() === "error") problems.push(message.text());
        });
        const response = await page.goto(url, { waitUntil: "load" });
        expect(response?.status()).toBe(200);
        expect(response?.headers()["content-security-policy"]).toContain("default-src 'self'");
        const run = page.locator(".graphiql-execute-button");
        await run.waitFor({ timeout: 20_000 });
        await run.click();
        const result = page.locator(".graphiql-response");
        await expect
          .poll(async () => (await result.textContent()) ?? "", { timeout: 20_000 })
          .toContain("ALICEDEV01");
        const text = (await result.textContent()) ?? "";
        expect(text).toContain("ALICEDEV02");
        expect(text).toContain("@alice:localhost");
        expect(problems).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    90_000,
  );
});
