import { DatabaseError } from "./cache/database.ts";
import { type CacheServices, openCache } from "./cache/open-cache.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { createGateway } from "./gateway.ts";
import { createLogger } from "./logger.ts";
import { startTracing } from "./tracing.ts";

/** `npm start`: read the environment, start, and stop cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`matrix-device-gateway: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  let cache: CacheServices | null = null;
  if (config.cache) {
    try {
      // Migrates first (idempotent; serialised between replicas), then opens the cache.
      cache = await openCache({
        databaseUrl: config.databaseUrl,
        retentionDays: config.retentionDays,
        logger,
      });
    } catch (error) {
      if (!(error instanceof DatabaseError)) throw error;
      process.stderr.write(`matrix-device-gateway: ${error.message}\n`);
      process.exit(1);
    }
  }
  const tracing = config.otlpEndpoint
    ? await startTracing(config.otlpEndpoint, "matrix-device-gateway")
    : null;
  const gateway = createGateway({
    config,
    logger,
    cache,
    tracer: tracing?.tracer,
    // After the last request: every queued observation is written before exit.
    onShutdown: [async () => cache?.close(), ...(tracing ? [() => tracing.shutdown()] : [])],
  });
  const url = await gateway.listen();
  logger.info({ url: `${url}/graphql`, homeserver: config.homeserverUrl }, "gateway listening");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    await gateway.close();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`matrix-device-gateway: failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
