import { Writable } from "node:stream";
import { type Config, loadConfig } from "../../src/config.ts";
import { createGateway, type Gateway, type GatewayOptions } from "../../src/gateway.ts";
import { createLogger } from "../../src/logger.ts";
import { FakeHomeserver, type FakeHomeserverOptions } from "./fake-homeserver.ts";

/** A GraphQL answer as a client sees it. */
export interface GraphQLAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  body: any;
  headers: Headers;
}

export interface Harness {
  fake: FakeHomeserver;
  gateway: Gateway;
  url: string;
  /** Every log line the gateway wrote, raw. */
  logs: string[];
  gql(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ): Promise<GraphQLAnswer>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  fake?: FakeHomeserverOptions;
  env?: Record<string, string>;
  gateway?: Partial<GatewayOptions>;
}

/** Starts the fake homeserver and a gateway in front of it, both on 127.0.0.1 port 0. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const fake = await FakeHomeserver.start(options.fake);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  const config: Config = loadConfig({
    MATRIX_HOMESERVER_URL: fake.url,
    PORT: "0",
    LOG_LEVEL: "trace",
    ...options.env,
  });
  const gateway = createGateway({
    config,
    logger: createLogger("trace", sink),
    ...options.gateway,
  });
  const url = await gateway.listen();
  return {
    fake,
    gateway,
    url,
    logs,
    async gql(query, variables, token) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (token) headers.authorization = `Bearer ${token}`;
      const response = await fetch(`${url}/graphql`, {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: await response.json(), headers: response.headers };
    },
    async stop() {
      await gateway.close(1000);
      await fake.stop();
    },
  };
}
