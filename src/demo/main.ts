import { FakeHomeserver } from "../../test/support/fake-homeserver.ts";
import { openCache } from "../cache/open-cache.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { createGateway } from "../gateway.ts";
import { createLogger } from "../logger.ts";

/**
 * `npm run demo`: the dev homeserver (the spec-faithful fake the tests use, seeded with alice and
 * bob) and the gateway in front of it, its cache in ./data/demo.db. No homeserver, no setup.
 */
async function demo(): Promise<void> {
  const fake = await FakeHomeserver.start({
    port: Number(process.env.DEMO_HOMESERVER_PORT ?? 0),
    maxLoggedRequests: 1000,
  });
  const seeded = fake.seedDemo();
  // Behave like a homeserver whose auth is delegated to an OAuth server (MAS).
  const accountManagementUrl = process.env.DEMO_ACCOUNT_MANAGEMENT_URL;
  if (accountManagementUrl) fake.setAuthDelegated(accountManagementUrl);
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({
      DATABASE_URL: "file:./data/demo.db",
      ...process.env,
      MATRIX_HOMESERVER_URL: fake.url,
      GRAPHIQL: "on",
      INTROSPECTION: "on",
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`demo: ${error.message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  const cache = config.cache
    ? await openCache({
        databaseUrl: config.databaseUrl,
        retentionDays: config.retentionDays,
        logger,
      })
    : null;
  const gateway = createGateway({
    config,
    logger,
    cache,
    graphiqlHeaders: { Authorization: `Bearer ${seeded.aliceToken}` },
  });
  const url = await gateway.listen();
  process.stdout.write(
    [
      "",
      "matrix-device-gateway demo",
      `  GraphiQL:         ${url}/graphql   (open it in a browser; alice's token is preset)`,
      `  dev homeserver:   ${fake.url}`,
      `  alice (admin):    ${seeded.alice}  password "alice-password"`,
      `    token:          ${seeded.aliceToken}`,
      `  bob:              ${seeded.bob}  password "bob-password"`,
      `    token:          ${seeded.bobToken}`,
      `  auth delegated:   ${accountManagementUrl ? accountManagementUrl : "no (set DEMO_ACCOUNT_MANAGEMENT_URL)"}`,
      "",
      `  curl -s ${url}/graphql -H 'content-type: application/json' \\`,
      `    -H 'authorization: Bearer ${seeded.aliceToken}' \\`,
      `    -d '{"query":"{ devices { deviceId displayName lastSeenAt isCurrent } }"}'`,
      "",
      "Ctrl-C stops both.",
      "",
    ].join("\n"),
  );
  const stop = async () => {
    await gateway.close(2000);
    await cache?.close();
    await fake.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

demo().catch((error: unknown) => {
  process.stderr.write(`demo: failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
