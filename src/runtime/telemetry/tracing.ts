import { type Attributes, context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * OpenTelemetry spans for the engines, through the API only: without a registered tracer provider
 * (no OTLP endpoint configured) every call here is the API's no-op and costs next to nothing.
 * src/observability/tracing.ts registers the provider and exporter.
 */
export const tracer = trace.getTracer('spectro-gateway');

/** True inside a sampled trace: work that would only add spans can be skipped otherwise. */
export const tracing = (): boolean => trace.getActiveSpan()?.isRecording() === true;

/** Marks a span failed with the error (its message and type), without ending it. */
export function recordError(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** Runs `fn` in a new active span (a child of the current one), ending it when `fn` settles. */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      recordError(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * A finished child span of `parent` (default: the active span) for work timed elsewhere, e.g. in a
 * worker thread that has no tracer of its own: times are epoch milliseconds
 * (`performance.timeOrigin + performance.now()` in that thread). Returns the span, ended.
 */
export function recordSpan(name: string, startMs: number, endMs: number, attributes: Attributes = {}, parent?: Span): Span {
  const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
  const span = tracer.startSpan(name, { startTime: startMs, attributes }, ctx);
  span.end(Math.max(startMs, endMs));
  return span;
}
