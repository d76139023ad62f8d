import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention";
import { type Span, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import {
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  NoSchemaIntrospectionCustomRule,
} from "graphql";
import { createYoga, type Plugin, type YogaLogger } from "graphql-yoga";
import type { Logger } from "pino";
import { staleExtensions } from "./cache/stale-plugin.ts";
import { compiledExecution } from "./compiled-execution.ts";
import type { Config } from "./config.ts";
import { type Context, createContextFactory, type GatewayServices } from "./context.ts";
import { GraphQLErrorCode } from "./error-codes.ts";
import type { Metrics } from "./metrics.ts";
import { requestScope } from "./request-scope.ts";
import type { Tracer } from "./tracing.ts";

type LimitsConfig = Pick<
  Config,
  | "graphiql"
  | "introspection"
  | "corsOrigins"
  | "maxAliases"
  | "maxTokens"
  | "maxDepth"
  | "maxDirectives"
  | "maxCost"
>;

export interface YogaOptions {
  schema: GraphQLSchema;
  services: GatewayServices;
  config: LimitsConfig;
  metrics: Metrics;
  tracer?: Tracer;
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

/**
 * Headers for every answer, and a content security policy for the GraphiQL page: it loads
 * nothing from elsewhere (its bundle is inlined) and talks only to this origin.
 */
const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
};
const GRAPHIQL_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

function securityHeaders(): Plugin<Context> {
  return {
    onResponse({ response }) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
        response.headers.set(name, value);
      }
      if (response.headers.get("content-type")?.startsWith("text/html")) {
        response.headers.set("content-security-policy", GRAPHIQL_CSP);
      }
    },
  };
}

/**
 * GraphQL Armor's rejections are plain GraphQLErrors ("Syntax Error: Aliases limit of 100
 * exceeded, found 101."); give them the API's BAD_USER_INPUT code and name the limit.
 */
function limitCode(limit: string) {
  return (_context: unknown, error: GraphQLError) => {
    const extensions = error.extensions as Record<string, unknown>;
    extensions.code = GraphQLErrorCode.BadUserInput;
    extensions.limit = limit;
  };
}

/** INTROSPECTION=off: `__schema` and `__type` fail validation. */
function noIntrospection(): Plugin<Context> {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

/** The executed operation's name: the one asked for, else the document's only operation's. */
function operationName(document: DocumentNode, requested: string | null | undefined) {
  return requested ?? getOperationAST(document)?.name?.value ?? null;
}

function errorCodes(result: unknown): string[] {
  const results = Array.isArray(result) ? result : [result];
  const codes: string[] = [];
  for (const one of results) {
    const errors = (one as { errors?: Array<{ extensions?: { code?: unknown } }> } | null)?.errors;
    for (const error of errors ?? []) {
      const code = error.extensions?.code;
      codes.push(typeof code === "string" ? code : "UNKNOWN");
    }
  }
  return codes;
}

/**
 * Per GraphQL request, from one start time and operation name: one log line (id, operation,
 * status, duration, upstream calls) and the Prometheus requests, latency and errors-by-code.
 */
function requestTelemetry(logger: Logger, metrics: Metrics): Plugin<Context> {
  const started = new WeakMap<Request, { at: number; operation: string | null }>();
  return {
    onRequest({ request }) {
      started.set(request, { at: performance.now(), operation: null });
    },
    onExecute({ args }) {
      const entry = started.get(args.contextValue.request);
      if (entry) entry.operation = operationName(args.document, args.operationName);
    },
    onResultProcess({ result }) {
      for (const code of errorCodes(result)) metrics.errors.inc({ code });
    },
    onResponse({ request, response, serverContext }) {
      const entry = started.get(request);
      if (!entry) return;
      const seconds = (performance.now() - entry.at) / 1000;
      const path = new URL(request.url).pathname;
      if (path.startsWith("/graphql")) {
        const operation = metrics.operationLabel(entry.operation);
        metrics.requests.inc({ operation, status: String(response.status) });
        metrics.duration.observe({ operation }, seconds);
      }
      const requestId = (serverContext as { requestId?: string } | undefined)?.requestId;
      logger.info(
        {
          requestId,
          operation: entry.operation,
          status: response.status,
          ms: Math.round(seconds * 1000),
          upstreamCalls: requestScope.getStore()?.upstreamCalls ?? 0,
        },
        `${request.method} ${path} ${response.status}`,
      );
    },
  };
}

/** OpenTelemetry: one server span per GraphQL request, named after its operation. */
function requestTracing(tracer: Tracer): Plugin<Context> {
  const spans = new WeakMap<Request, { span: Span; operation: string | null }>();
  return {
    onRequest({ request }) {
      const span = tracer.startSpan("graphql", { kind: SpanKind.SERVER });
      spans.set(request, { span, operation: null });
      const scope = requestScope.getStore();
      if (scope) scope.span = span;
    },
    onExecute({ args }) {
      const entry = spans.get(args.contextValue.request);
      if (!entry) return;
      const name = operationName(args.document, args.operationName);
      entry.span.updateName(`graphql ${name ?? "anonymous"}`);
      if (name) entry.span.setAttribute("graphql.operation.name", name);
    },
    onResponse({ request, response }) {
      const entry = spans.get(request);
      if (!entry) return;
      entry.span.setAttribute("http.response.status_code", response.status);
      if (response.status >= 500) entry.span.setStatus({ code: SpanStatusCode.ERROR });
      entry.span.end();
    },
  };
}

/**
 * Renders GraphiQL on first use only: the inlined bundle is ~9 MB of JavaScript that a gateway
 * with GRAPHIQL=off (or one nobody opens GraphiQL on) never needs in memory.
 */
async function renderGraphiQL(options?: Record<string, unknown>): Promise<string> {
  const { renderGraphiQL: render } = await import("@graphql-yoga/render-graphiql");
  return render(options);
}

export function createGatewayYoga(options: YogaOptions) {
  const { services, config, metrics } = options;
  const production = !config.introspection;
  return createYoga<Record<string, unknown>, Context>({
    schema: options.schema,
    context: createContextFactory(services),
    graphqlEndpoint: "/graphql",
    landingPage: false,
    // server.ts already refuses bodies over BODY_LIMIT_BYTES before yoga sees them; yoga's own
    // limit would pipe every body through a TransformStream again (measured: ~3% of CPU).
    maxRequestBodySize: false,
    logging: yogaLogger(services.logger),
    // Mask everything that is not a GraphQLError; never include stacks, whatever NODE_ENV says.
    maskedErrors: { isDev: false },
    // Cross-origin requests only from the configured origins; none by default.
    cors:
      config.corsOrigins.length === 0
        ? false
        : {
            origin: config.corsOrigins,
            credentials: false,
            methods: ["GET", "POST"],
            allowedHeaders: ["authorization", "content-type", "x-request-id"],
          },
    graphiql: config.graphiql
      ? {
          title: "matrix-device-gateway",
          defaultQuery: EXAMPLE_QUERY,
          headers: JSON.stringify(options.graphiqlHeaders ?? { Authorization: "Bearer <token>" }),
          shouldPersistHeaders: false,
        }
      : false,
    renderGraphiQL,
    plugins: [
      // A browser's "simple" request (form or text/plain POST, a bare GET) is refused. A request
      // carrying Authorization cannot be simple (browsers preflight it), so it passes as well.
      useCSRFPrevention({ requestHeaders: ["x-graphql-yoga-csrf", "authorization"] }),
      ...(config.introspection ? [] : [noIntrospection()]),
      // GraphQL Armor: limits on aliases, tokens, depth, directives and cost of an operation.
      EnvelopArmorPlugin({
        maxAliases: { n: config.maxAliases, onReject: [limitCode("aliases")] },
        maxTokens: { n: config.maxTokens, onReject: [limitCode("tokens")] },
        maxDepth: { n: config.maxDepth, onReject: [limitCode("depth")] },
        maxDirectives: { n: config.maxDirectives, onReject: [limitCode("directives")] },
        costLimit: { maxCost: config.maxCost, onReject: [limitCode("cost")] },
        // Suggestions ("Did you mean …?") leak the schema just like introspection does.
        blockFieldSuggestion: { enabled: production },
      }),
      compiledExecution(options.schema),
      securityHeaders(),
      ...(options.tracer ? [requestTracing(options.tracer)] : []),
      requestTelemetry(services.logger, metrics),
      staleExtensions(),
    ],
  });
}
