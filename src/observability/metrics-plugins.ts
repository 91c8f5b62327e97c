import { createHash, timingSafeEqual } from 'node:crypto';
import { createCounter, createHistogram, usePrometheus } from '@graphql-yoga/plugin-prometheus';
import { getOperationAST, type GraphQLError, Kind } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { isDiskFull } from '../http/errors.ts';
import type { Metrics } from '../runtime/telemetry/metrics.ts';
import { routeOf } from './routes.ts';

export const METRICS_PATH = '/metrics';

/**
 * A label whose values come from clients (operation names): the first `max` distinct values are
 * kept, later new ones read `other`, so a client inventing names cannot grow the series forever.
 */
export function boundedLabel(max: number): (value: string | undefined | null, fallback: string) => string {
  const seen = new Set<string>();
  return (value, fallback) => {
    if (!value) return fallback;
    if (seen.has(value)) return value;
    if (seen.size >= max || !/^[_A-Za-z][_0-9A-Za-z]{0,99}$/.test(value)) return 'other';
    seen.add(value);
    return value;
  };
}

const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** True when the Authorization header is `Bearer <token>` (compared in constant time). */
export function hasMetricsToken(authorization: string | null | undefined, token: string): boolean {
  const given = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim() ?? '';
  return timingSafeEqual(sha256(given), sha256(token));
}

/** `GET /metrics`: the Prometheus text, behind METRICS_TOKEN when one is set. */
export async function metricsResponse(request: Request, metrics: Metrics, token: string | null): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } });
  if (token && !hasMetricsToken(request.headers.get('authorization'), token)) {
    return new Response('a bearer token (METRICS_TOKEN) is required\n', {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain; charset=utf-8' },
    });
  }
  const body = await metrics.scrape();
  return new Response(request.method === 'HEAD' ? null : body, {
    status: 200,
    headers: { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' },
  });
}

/** Every HTTP request: count and latency by method, normalised route and status, and how many are in flight. */
function useHttpMetrics(metrics: Metrics): Plugin {
  const started = new WeakMap<Request, { end: () => void; labels: { method: string; route: string } }>();
  return {
    onRequest({ request, url }) {
      metrics.http.inFlight.inc();
      const labels = { method: METHODS.has(request.method) ? request.method : 'other', route: routeOf(url.pathname) };
      started.set(request, { end: metrics.http.duration.startTimer(labels), labels });
    },
    onResponse({ request, response }) {
      const s = started.get(request);
      if (!s) return;
      started.delete(request);
      metrics.http.inFlight.dec();
      s.end();
      metrics.http.requests.inc({ ...s.labels, status: String(response.status) });
    },
  };
}

/**
 * GraphQL operations through Yoga's Prometheus plugin (operations, phase durations, errors),
 * with the labels bounded: operation names capped (boundedLabel), errors by the contract's code.
 */
function useGraphqlMetrics(metrics: Metrics): Plugin {
  const registry = metrics.registry;
  const operation = boundedLabel(200);
  const codeOf = (error: GraphQLError | undefined, phase: string | undefined) => {
    const code = error?.extensions?.code;
    if (typeof code === 'string') return code;
    if (isDiskFull(error?.originalError)) return 'UNAVAILABLE'; // masked later as DISK_FULL
    return phase === 'parse' || phase === 'validate' ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR';
  };
  const labels = (p: { operationName?: string; operationType?: string }) => ({
    operationName: operation(p.operationName, 'Anonymous'),
    operationType: p.operationType ?? 'unknown',
  });
  return usePrometheus({
    registry,
    endpoint: false, // served by useMetricsEndpoint / the metrics port, with the token check
    metrics: {
      graphql_envelop_request: createCounter({
        registry,
        counter: { name: 'graphql_envelop_request', help: 'GraphQL operations, by operation name and type', labelNames: ['operationName', 'operationType'] },
        fillLabelsFn: labels,
      }),
      graphql_envelop_request_duration: createHistogram({
        registry,
        histogram: {
          name: 'graphql_envelop_request_duration',
          help: 'Time to execute a GraphQL operation (or to set up a subscription), by operation',
          labelNames: ['operationName', 'operationType'],
        },
        fillLabelsFn: labels,
      }),
      graphql_envelop_request_time_summary: false,
      graphql_envelop_phase_parse: true,
      graphql_envelop_phase_validate: true,
      graphql_envelop_phase_context: true,
      graphql_envelop_phase_execute: true,
      graphql_envelop_phase_subscribe: true,
      graphql_envelop_error_result: createCounter({
        registry,
        counter: {
          name: 'graphql_envelop_error_result',
          help: 'Errors in GraphQL results, by operation, phase and extensions.code',
          labelNames: ['operationName', 'operationType', 'phase', 'code'],
        },
        fillLabelsFn: (p) => ({ ...labels(p), phase: p.errorPhase ?? 'execute', code: codeOf(p.error, p.errorPhase) }),
      }),
      graphql_envelop_deprecated_field: false,
      graphql_envelop_schema_change: false,
      graphql_envelop_execute_resolver: false,
      graphql_yoga_http_duration: createHistogram({
        registry,
        histogram: {
          name: 'graphql_yoga_http_duration',
          help: 'Time to answer a GraphQL HTTP request, by operation, method and status',
          labelNames: ['operationName', 'operationType', 'method', 'statusCode'],
        },
        fillLabelsFn: (p, ctx: { request: Request; response: Response }) => ({
          ...labels(p),
          method: METHODS.has(ctx.request.method) ? ctx.request.method : 'other',
          statusCode: ctx.response.status,
        }),
      }),
    },
  });
}

/** Uploaded files look like this (Yoga's are @whatwg-node Files, not Node's: no instanceof). */
const isFile = (v: object): v is File =>
  typeof (v as File).size === 'number' && typeof (v as File).stream === 'function' && typeof (v as File).arrayBuffer === 'function';

/** File objects among the variables (multipart uploads put them there). */
function filesIn(value: unknown, out: File[] = [], depth = 0): File[] {
  if (depth > 5 || value === null || typeof value !== 'object') return out;
  if (isFile(value)) {
    out.push(value);
    return out;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) filesIn(v, out, depth + 1);
  return out;
}

/**
 * Uploads, GraphQL multipart and REST alike (REST runs them as GraphQL operations): files and
 * bytes accepted; requests refused by reason, i.e. the error code (PAYLOAD_TOO_LARGE,
 * UNSUPPORTED_MEDIA, `DISK_FULL` for UNAVAILABLE on a full disk, …), or BODY_TOO_LARGE / FORBIDDEN
 * (CSRF) for multipart bodies refused before any operation ran.
 */
function useUploadMetrics(metrics: Metrics): Plugin {
  const executed = new WeakSet<Request>();
  return {
    onExecute({ args }) {
      const files = filesIn(args.variableValues);
      if (files.length === 0) return;
      const request = (args.contextValue as { request?: Request }).request;
      if (request) executed.add(request);
      return {
        onExecuteDone({ result }) {
          if (isAsyncIterable(result)) return;
          const errors = result.errors ?? [];
          if (errors.length === 0) {
            metrics.uploads.files.inc(files.length);
            metrics.uploads.bytes.inc(files.reduce((n, f) => n + f.size, 0));
            return;
          }
          const first = errors[0]!;
          const ext = first.extensions ?? {};
          // Seen before masking: a full disk is still the file system's error here.
          const reason = isDiskFull(first.originalError)
            ? 'DISK_FULL'
            : typeof ext.reason === 'string'
              ? ext.reason
              : typeof ext.code === 'string'
                ? ext.code
                : 'INTERNAL_SERVER_ERROR';
          metrics.uploads.rejects.inc({ reason });
        },
      };
    },
    onResponse({ request, response }) {
      if (response.status < 400 || executed.has(request)) return;
      if (!(request.headers.get('content-type') ?? '').startsWith('multipart/form-data')) return;
      const reason = response.status === 413 ? 'BODY_TOO_LARGE' : response.status === 403 ? 'FORBIDDEN' : `HTTP_${response.status}`;
      metrics.uploads.rejects.inc({ reason });
    },
  };
}

/** Open subscription streams and the events sent on them, by root field and transport. */
function useSubscriptionMetrics(metrics: Metrics): Plugin {
  const field = boundedLabel(50);
  return {
    onSubscribe: () => ({
      onSubscribeResult({ args, result }) {
        if (!isAsyncIterable(result)) return;
        const op = getOperationAST(args.document, args.operationName);
        const first = op?.selectionSet.selections.find((s) => s.kind === Kind.FIELD);
        const transport = (args.contextValue as { connectionParams?: unknown }).connectionParams === undefined ? 'sse' : 'ws';
        const labels = { field: field(first?.kind === Kind.FIELD ? first.name.value : undefined, 'unknown'), transport };
        metrics.subscriptions.open.inc(labels);
        let ended = false;
        return {
          onNext: () => {
            metrics.subscriptions.delivered.inc(labels);
          },
          onEnd: () => {
            if (ended) return;
            ended = true;
            metrics.subscriptions.open.dec(labels);
          },
        };
      },
    }),
  };
}

/** `GET /metrics` on the main port (when no METRICS_PORT is set). */
function useMetricsEndpoint(metrics: Metrics, token: string | null): Plugin {
  return {
    onRequest({ request, url, endResponse }) {
      if (url.pathname === METRICS_PATH) return metricsResponse(request, metrics, token).then(endResponse);
    },
  };
}

/** The Yoga plugins that record metrics (and serve them unless a separate port does). */
export function metricsPlugins(metrics: Metrics, opts: { token: string | null; serve: boolean }): Plugin[] {
  return [
    useHttpMetrics(metrics),
    ...(opts.serve ? [useMetricsEndpoint(metrics, opts.token)] : []),
    useGraphqlMetrics(metrics),
    useUploadMetrics(metrics),
    useSubscriptionMetrics(metrics),
  ];
}
