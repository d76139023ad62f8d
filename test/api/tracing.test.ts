import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startTracing } from "../../src/tracing.ts";
import { NOW, seedAlice } from "../support/fixtures.ts";
import { type Harness, startHarness } from "../support/gateway-harness.ts";

interface ExportedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}

/** A stand-in OTLP/HTTP collector: keeps every span posted to /v1/traces. */
async function collector(): Promise<{ url: string; spans: ExportedSpan[]; server: Server }> {
  const spans: ExportedSpan[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      if (req.url === "/v1/traces") {
        const parsed = JSON.parse(body);
        for (const rs of parsed.resourceSpans ?? []) {
          for (const ss of rs.scopeSpans ?? []) spans.push(...ss.spans);
        }
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, server };
}

let h: Harness | null = null;
let stopCollector: (() => void) | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
  stopCollector?.();
});

describe("OpenTelemetry tracing", () => {
  it("exports a span per request, with each upstream call as its child", async () => {
    const otlp = await collector();
    stopCollector = () => otlp.server.close();
    const tracing = await startTracing(otlp.url, "matrix-device-gateway");
    h = await startHarness({ fake: { now: () => NOW }, gateway: { tracer: tracing.tracer } });
    const tokens = seedAlice(h.fake);
    const { body } = await h.gql(
      "query MyDevices { viewer { userId } devices { deviceId } }",
      {},
      tokens.alice,
    );
    expect(body.errors).toBeUndefined();
    await tracing.shutdown(); // flushes the batch

    const request = otlp.spans.find((s) => s.name === "graphql MyDevices");
    expect(request).toBeDefined();
    const children = otlp.spans.filter((s) => s.parentSpanId === request?.spanId);
    expect(children.map((s) => s.name).sort()).toEqual([
      "GET /_matrix/client/v3/account/whoami",
      "GET /_matrix/client/v3/devices",
      "GET /_matrix/client/versions",
    ]);
    for (const child of children) expect(child.traceId).toBe(request?.traceId);
    expect(JSON.stringify(otlp.spans)).not.toContain(tokens.alice);
  });
});
