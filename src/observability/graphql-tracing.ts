import { context, propagation, type Span, SpanKind, SpanStatusCode, trace, type TextMapGetter } from '@opentelemetry/api';
import { defaultFieldResolver, getOperationAST, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { requestIdOf } from '../logging.ts';
import { recordError, tracer, tracing } from '../runtime/telemetry/tracing.ts';
import { PROBE_PATHS, routeOf } from './routes.ts';
import { REQUEST_ID_ATTRIBUTE, REQUEST_ID_KEY } from './tracing.ts';

const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/** Calls `fn`, then `done` once its result (or its promise) settles. */
function settle<T>(fn: () => T, done: (err?: unknown) => void): T {
  let out: T;
  try {
    out = fn();
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
    ) as T;
  }
  done();
  return out;
}

/** Runs one phase of the request in its own active span. */
function phase<T>(name: string, wrapped: () => T): T {
  if (!tracing()) return wrapped();
  const span = tracer.startSpan(name);
  return settle(
    () => context.with(trace.setSpan(context.active(), span), wrapped),
    (err) => {
      if (err !== undefined) recordError(span, err);
      span.end();
    },
  );
}

const tracedSchemas = new WeakSet<GraphQLSchema>();

/**
 * Gives every root field (Query, Mutation, Subscription) a span, active while its resolver runs,
 * so the engine spans it causes (inference, training, store) hang below it. Nested fields are
 * not wrapped: they read through dataloaders, whose store calls have spans of their own.
 * The schema is shared by every server in the process, so the wrapper decides per call: outside
 * a recording trace it is a plain call.
 */
function traceRootResolvers(schema: GraphQLSchema): void {
  if (tracedSchemas.has(schema)) return;
  tracedSchemas.add(schema);
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      const wrap =
        (resolve: GraphQLFieldResolver<unknown, unknown>, what: string): GraphQLFieldResolver<unknown, unknown> =>
        (root, args, ctx, info) => {
          if (!tracing()) return resolve(root, args, ctx, info);
          const attributes = { 'graphql.field.name': info.fieldName, 'graphql.field.type': String(info.returnType) };
          return tracer.startActiveSpan(`graphql.${what} ${info.parentType.name}.${info.fieldName}`, { attributes }, (span) =>
            settle(
              () => resolve(root, args, ctx, info),
              (err) => {
                if (err !== undefined) recordError(span, err);
                span.end();
              },
            ),
          );
        };
      field.resolve = wrap(field.resolve ?? defaultFieldResolver, 'resolve');
      if (field.subscribe) field.subscribe = wrap(field.subscribe, 'subscribe');
    }
  }
}

/**
 * OpenTelemetry spans for each HTTP request (a SERVER span continuing the caller's W3C
 * `traceparent`, with the request id) and its GraphQL phases: parse, validate, context, execute /
 * subscribe, and the root fields' resolvers. Added only when tracing is on.
 */
export function useTracing(): Plugin {
  const httpSpans = new WeakMap<Request, Span>();
  return {
    onSchemaChange({ schema }) {
      traceRootResolvers(schema);
    },
    instrumentation: {
      request({ request }, wrapped) {
        const url = new URL(request.url);
        if (PROBE_PATHS.has(url.pathname)) return wrapped();
        const parent = propagation.extract(context.active(), request.headers, headerGetter);
        const route = routeOf(url.pathname);
        const requestId = requestIdOf(request);
        const span = tracer.startSpan(
          `${request.method} ${route}`,
          {
            kind: SpanKind.SERVER,
            attributes: {
              'http.request.method': request.method,
              'url.path': url.pathname,
              'http.route': route,
              [REQUEST_ID_ATTRIBUTE]: requestId,
            },
          },
          parent,
        );
        httpSpans.set(request, span);
        const ctx = trace.setSpan(parent, span).setValue(REQUEST_ID_KEY, requestId);
        return settle(
          () => context.with(ctx, wrapped),
          (err) => {
            if (err !== undefined) recordError(span, err);
            span.end();
          },
        );
      },
      parse: (_payload, wrapped) => phase('graphql.parse', wrapped),
      validate: (_payload, wrapped) => phase('graphql.validate', wrapped),
      context: (_payload, wrapped) => phase('graphql.context', wrapped),
      execute: (_payload, wrapped) => phase('graphql.execute', wrapped),
      subscribe: (_payload, wrapped) => phase('graphql.subscribe', wrapped),
    },
    onExecute({ args }) {
      // Inside the execute phase: the active span is graphql.execute.
      const span = trace.getActiveSpan();
      if (!span?.isRecording()) return;
      const op = getOperationAST(args.document, args.operationName);
      const type = op?.operation ?? 'query';
      const name = op?.name?.value;
      span.updateName(name ? `${type} ${name}` : type);
      span.setAttributes({ 'graphql.operation.type': type, ...(name ? { 'graphql.operation.name': name } : {}) });
      return {
        onExecuteDone({ result }) {
          const errors = 'errors' in result ? (result.errors ?? []) : [];
          if (errors.length === 0) return;
          const codes = [...new Set(errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))];
          span.setAttribute('graphql.error.codes', codes);
          span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]!.message });
        },
      };
    },
    onResponse({ request, response }) {
      const span = httpSpans.get(request);
      if (!span) return;
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    },
  };
}
