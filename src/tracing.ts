import type { Span, Tracer } from "@opentelemetry/api";

/** OpenTelemetry tracing, on when OTEL_EXPORTER_OTLP_ENDPOINT is set (OTLP/HTTP JSON). */
export interface Tracing {
  tracer: Tracer;
  /** Exports what is buffered and stops (a shutdown hook). */
  shutdown(): Promise<void>;
}

/**
 * Starts a tracer exporting to `${endpoint}/v1/traces` (the OTLP convention for the base
 * endpoint variable). The SDK is imported only here, so a gateway without an endpoint never
 * loads it.
 */
export async function startTracing(endpoint: string, serviceName: string): Promise<Tracing> {
  const [
    { BasicTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { resourceFromAttributes },
  ] = await Promise.all([
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const exporter = new OTLPTraceExporter({
    url: new URL("v1/traces", endpoint.replace(/\/?$/, "/")).href,
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  return {
    tracer: provider.getTracer("matrix-device-gateway"),
    shutdown: () => provider.shutdown(),
  };
}

export type { Span, Tracer };
