import { type Context as OtelContext, context, createContextKey, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  SimpleSpanProcessor,
  type Span,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Config } from '../config.ts';
import type { Logger } from '../logging.ts';

/** The request id travels in the OpenTelemetry context, so every span of a request carries it. */
export const REQUEST_ID_KEY = createContextKey('spectro.request_id');
export const REQUEST_ID_ATTRIBUTE = 'spectro.request_id';

/** Stamps each span with the request id found in its parent context (set by the HTTP span). */
class RequestIdProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: OtelContext): void {
    const id = parentContext.getValue(REQUEST_ID_KEY);
    if (typeof id === 'string') span.setAttribute(REQUEST_ID_ATTRIBUTE, id);
  }
  onEnd(): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG as the specification names them (default parentbased_always_on). */
export function samplerFromEnv(env: NodeJS.ProcessEnv): Sampler {
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1');
  const traceIdRatio = () => new TraceIdRatioBasedSampler(Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 1);
  switch (env.OTEL_TRACES_SAMPLER) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return traceIdRatio();
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: traceIdRatio() });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

export interface Tracing {
  provider: TracerProvider;
  /** Exports what is buffered and stops the provider (call after the server stopped). */
  shutdown(): Promise<void>;
}

/**
 * Registers the process-wide tracer provider (with the AsyncLocalStorage context manager and W3C
 * trace-context propagation) that exports to `exporter`. The engines' spans (runtime/telemetry)
 * go through the global API and reach it from then on.
 */
export function registerTracing(opts: { exporter: SpanExporter; batch?: boolean; env?: NodeJS.ProcessEnv }): Tracing {
  const env = opts.env ?? process.env;
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'spectro-gateway', [ATTR_SERVICE_VERSION]: process.env.npm_package_version ?? '0.1.0' }))
    .merge(detectResources({ detectors: [envDetector] })); // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
  const provider = new TracerProvider({
    resource,
    sampler: samplerFromEnv(env),
    spanProcessors: [
      new RequestIdProcessor(),
      opts.batch ? new BatchSpanProcessor({ exporter: opts.exporter }) : new SimpleSpanProcessor({ exporter: opts.exporter }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(provider);
  return { provider, shutdown: () => provider.shutdown() };
}

/**
 * Tracing as configured: spans exported over OTLP/HTTP (protobuf) when an OTLP endpoint is set,
 * nothing at all otherwise (no provider is registered, so every span is the API's no-op). The
 * exporter reads the other OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression) itself.
 */
export function startTracing(config: Pick<Config, 'ops'>, log: Logger): Tracing | null {
  const endpoint = config.ops.otlpEndpoint;
  if (!endpoint) return null;
  const tracing = registerTracing({ exporter: new OTLPTraceExporter(), batch: true });
  log.info({ endpoint }, 'tracing: exporting spans over OTLP');
  return tracing;
}
