/**
 * The OpenTelemetry SDK, loaded by tracing.ts only when traces are on: a tracer provider that
 * sends spans in batches over OTLP/HTTP, registered for the process (W3C trace context, context
 * kept across awaits), and the undici instrumentation, which makes a span of each request to the
 * supplier and sends `traceparent` with it. The exporter reads the other standard OTEL_EXPORTER_OTLP_*
 * settings (headers, timeout, compression) itself.
 */
import { context, diag, DiagLogLevel, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { TracesConfig } from '../config.ts';
import type { Logger } from './logger.ts';

export function registerTracing(config: TracesConfig, logger: Logger) {
  // The SDK reports a collector it cannot reach through `diag`: into the log, once per batch.
  const warn = (message: string) => logger.warn({ detail: message }, 'traces: the OpenTelemetry SDK reports a problem');
  const quiet = () => {};
  diag.setLogger({ error: warn, warn, info: quiet, debug: quiet, verbose: quiet }, DiagLogLevel.WARN);
  const provider = new NodeTracerProvider({
    // OTEL_RESOURCE_ATTRIBUTES is honoured; the service name is the configuration's.
    resource: defaultResource()
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(resourceFromAttributes({ 'service.name': config.serviceName })),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.url }))],
  });
  provider.register();
  // Only requests under a span: the readiness probe, which runs outside any, is not a trace.
  const undici = new UndiciInstrumentation({ requireParentforSpans: true });
  return {
    flush: () => provider.forceFlush(),
    async shutdown(): Promise<void> {
      undici.disable();
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        context.disable();
        propagation.disable();
        diag.disable();
      }
    },
  };
}
