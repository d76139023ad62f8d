import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import type { GraphQLSchema } from "graphql";
import { createYoga, type Plugin, type YogaLogger } from "graphql-yoga";
import type { Logger } from "pino";
import { staleExtensions } from "./cache/stale-plugin.ts";
import { type Context, createContextFactory, type GatewayServices } from "./context.ts";

export interface YogaOptions {
  schema: GraphQLSchema;
  services: GatewayServices;
  graphiql: boolean;
  /** Headers GraphiQL starts with (the demo puts its token here). */
  graphiqlHeaders?: Record<string, string>;
}

export const EXAMPLE_QUERY = `# Your devices, as the homeserver knows them.
query MyDevices {
  viewer { userId deviceId }
  devices {
    deviceId
    displayName
    lastSeenIp
    lastSeenAt
    isCurrent
  }
}
`;

function yogaLogger(logger: Logger): YogaLogger {
  return {
    debug: (...args: unknown[]) => logger.debug({ args }, "yoga"),
    info: (...args: unknown[]) => logger.info({ args }, "yoga"),
    warn: (...args: unknown[]) => logger.warn({ args }, "yoga"),
    // Unexpected errors: log what they are, never upstream bodies or variables.
    error: (...args: unknown[]) =>
      logger.error(
        { errors: args.map((a) => (a instanceof Error ? { name: a.name, stack: a.stack } : a)) },
        "unexpected error",
      ),
  };
}

/** One line per GraphQL request: id, operation, status, duration; echoes the request id. */
function requestLogging(logger: Logger): Plugin<Context> {
  const started = new WeakMap<Request, { at: number; operation: string | null }>();
  return {
    onRequest({ request }) {
      started.set(request, { at: performance.now(), operation: null });
    },
    onExecute({ args }) {
      const entry = started.get(args.contextValue.request);
      if (entry) entry.operation = args.operationName ?? null;
    },
    onResponse({ request, response, serverContext }) {
      const entry = started.get(request);
      if (!entry) return;
      const requestId = (serverContext as { requestId?: string } | undefined)?.requestId;
      logger.info(
        {
          requestId,
          operation: entry.operation,
          status: response.status,
          ms: Math.round(performance.now() - entry.at),
        },
        `${request.method} ${new URL(request.url).pathname} ${response.status}`,
      );
    },
  };
}

export function createGatewayYoga(options: YogaOptions) {
  const { services } = options;
  return createYoga<Record<string, unknown>, Context>({
    schema: options.schema,
    context: createContextFactory(services),
    graphqlEndpoint: "/graphql",
    landingPage: false,
    logging: yogaLogger(services.logger),
    // Mask everything that is not a GraphQLError; never include stacks, whatever NODE_ENV says.
    maskedErrors: { isDev: false },
    graphiql: options.graphiql
      ? {
          title: "matrix-device-gateway",
          defaultQuery: EXAMPLE_QUERY,
          headers: JSON.stringify(options.graphiqlHeaders ?? { Authorization: "Bearer <token>" }),
          shouldPersistHeaders: false,
        }
      : false,
    renderGraphiQL,
    plugins: [requestLogging(services.logger), staleExtensions()],
  });
}
