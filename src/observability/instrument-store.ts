import { SpanKind } from '@opentelemetry/api';
import type { Metrics } from '../runtime/telemetry/metrics.ts';
import { recordError, tracer, tracing } from '../runtime/telemetry/tracing.ts';

/** Cheap synchronous helpers: timing them would only add noise (and a span per image URL). */
const UNTIMED: ReadonlySet<string> = new Set(['path', 'release', 'holdCount']);

const isPlainData = (v: object) => Array.isArray(v) || v instanceof Map || v instanceof Set || v instanceof Promise || ArrayBuffer.isView(v);

function hasMethods(v: object): boolean {
  for (let o: object | null = v; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    if (Object.getOwnPropertyNames(o).some((k) => k !== 'constructor' && typeof (v as Record<string, unknown>)[k] === 'function')) return true;
  }
  return false;
}

/**
 * The store as before, with every method timed (`spectro_store_operation_duration_seconds`,
 * failures in `spectro_store_errors_total`) and, inside a recording trace, a CLIENT span per call.
 *
 * It wraps from outside, whatever the store's shape: methods of the object and of nested objects
 * that have methods (`blobs.put`, or per-domain sub-stores such as `items.add`) get the dotted
 * name as their `operation`. Methods run with the original object as `this`, so calls the store
 * makes to itself are not counted twice.
 */
export function instrumentStore<S extends object>(store: S, metrics: Metrics, opts: { system: string; prefix?: string }): S {
  const prefix = opts.prefix ?? '';
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || value === null || (typeof value !== 'function' && typeof value !== 'object')) return value;
      if (cache.has(prop)) {
        const hit = cache.get(prop) as { original: unknown; wrapped: unknown };
        if (hit.original === value) return hit.wrapped;
      }
      let wrapped: unknown = value;
      const operation = prefix + prop;
      if (typeof value === 'function') {
        if (!UNTIMED.has(prop)) wrapped = timed(operation, value as (...a: unknown[]) => unknown, target, metrics, opts.system);
      } else if (!isPlainData(value) && hasMethods(value)) {
        wrapped = instrumentStore(value, metrics, { system: opts.system, prefix: `${operation}.` });
      }
      cache.set(prop, { original: value, wrapped });
      return wrapped;
    },
  });
}

function timed(operation: string, fn: (...a: unknown[]) => unknown, self: object, metrics: Metrics, system: string) {
  // The labelled children once: no label hashing per call.
  const duration = metrics.store.duration.labels({ operation });
  const errors = metrics.store.errors.labels({ operation });
  return (...args: unknown[]): unknown => {
    const t0 = performance.now();
    const span = tracing()
      ? tracer.startSpan(`store.${operation}`, { kind: SpanKind.CLIENT, attributes: { 'db.system.name': system, 'db.operation.name': operation } })
      : null;
    const done = (err?: unknown) => {
      duration.observe((performance.now() - t0) / 1000);
      if (err !== undefined) {
        errors.inc();
        if (span) recordError(span, err);
      }
      span?.end();
    };
    let out: unknown;
    try {
      out = fn.apply(self, args);
    } catch (err) {
      done(err);
      throw err;
    }
    if (out instanceof Promise) {
      return out.then(
        (v) => {
          done();
          return v;
        },
        (err: unknown) => {
          done(err);
          throw err;
        },
      );
    }
    done();
    return out;
  };
}
