import type { Plugin } from 'graphql-yoga';
import type { Services } from '../context.ts';
import { AppError } from '../errors.ts';
import { isDiskFull } from '../http/errors.ts';
import { createLinks } from '../links.ts';
import { createLoaders } from '../loaders.ts';
import { currentLog, requestIdOf } from '../logging.ts';
import { clientAddress } from '../http/client-address.ts';
import type { Principal } from '../runtime/auth/auth.ts';
import { authenticate } from './auth.ts';
import { RestFailure, errorResponse, restFailureOf, unprocessable } from './http.ts';
import { parseInput } from './input.ts';
import { OPENAPI_PATH, createOpenApiDocument } from './openapi.ts';
import type { Operation } from './operation.ts';
import { UPSTREAM_PREFIX, proxyUpstream } from './proxy.ts';
import { compile, match } from './router.ts';
import { algorithmOperations } from './routes/algorithms.ts';
import { itemOperations } from './routes/items.ts';
import { modelOperations } from './routes/models.ts';
import { regionOperations } from './routes/regions.ts';
import { targetOperations } from './routes/targets.ts';
import { utilOperations } from './routes/utils.ts';

export const REST_PREFIX = '/api/v1/';

/** Every operation the REST layer serves, in the order of the original document. */
export const restOperations: readonly Operation[] = [
  ...targetOperations,
  ...algorithmOperations,
  ...modelOperations,
  ...itemOperations,
  ...utilOperations,
  ...regionOperations,
];

/** The OpenAPI document served at /api/v1/openapi.json (and printed to openapi.json). */
export const openApiDocument = () => createOpenApiDocument(restOperations);

const routes = compile(restOperations);

export type RestHandler = (request: Request, serverContext?: unknown) => Promise<Response | null>;

/**
 * spectro-rest-v1 for existing clients. Each call is matched to its operation, authenticated
 * (authenticate, before the body is read), validated against the operation's contract (the
 * schemas the OpenAPI document is made of), then served by one engine call, as GraphQL's
 * resolvers are. Null: not a REST path (`/api/auth/token` is served by the HTTP routes).
 */
/** Paths the REST handler answers: the REST API and the upstream proxy. */
const isRestPath = (pathname: string) => pathname.startsWith(REST_PREFIX) || pathname === REST_PREFIX.slice(0, -1) || pathname.startsWith(UPSTREAM_PREFIX);

export function createRestHandler({ services }: { services: Services }): RestHandler {
  let document: string | null = null;
  /** REST writes leave the same audit events as GraphQL mutations (action: the operationId). */
  const audited = (op: Operation, principal: Principal | null, params: Record<string, string>, ok: boolean, serverContext: unknown) =>
    void services.audit.record({
      actor: principal?.clientId ?? 'anonymous',
      actorKind: 'client',
      action: op.operationId,
      targetType: null,
      targetIds: Object.values(params),
      outcome: ok ? 'ok' : 'failed',
      detail: `REST ${op.method.toUpperCase()} ${op.path}`,
      source: clientAddress(serverContext),
    });
  return async (request, serverContext?: unknown) => {
    const url = new URL(request.url);
    if (!isRestPath(url.pathname)) return null;
    const isProxy = url.pathname.startsWith(UPSTREAM_PREFIX);
    let op: Operation | null = null;
    let lastPrincipal: Principal | null = null;
    try {
      if (isProxy) return await proxyUpstream(request, url, services);
      if (url.pathname === OPENAPI_PATH) {
        document ??= JSON.stringify(openApiDocument());
        return new Response(document, { headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' } });
      }
      const found = match(routes, request.method, url.pathname);
      if (!found) throw new RestFailure(404, `no REST endpoint ${request.method} ${url.pathname}`, { code: 'NOT_FOUND' });
      if ('allowed' in found) {
        throw new RestFailure(405, `${url.pathname} accepts ${found.allowed.join(', ')}`, { headers: { allow: found.allowed.join(', ') } });
      }
      op = found.operation;
      const principal = await authenticate(request, op.scope, services);
      lastPrincipal = principal;
      if (found.malformed) throw unprocessable('path', 'the path has a malformed percent-encoding');
      const { maxFiles, maxFileBytes } = services.config.upload;
      const input = await parseInput(
        request,
        url,
        op,
        found.params,
        Math.min(maxFiles * (maxFileBytes + 4096), services.config.security.uploadMaxRequestBytes) + 65_536,
      );
      const baseUrl = (services.config.publicUrl ?? url.origin).replace(/\/+$/, '');
      const response = await op.handler({
        request,
        url,
        params: input.params,
        query: input.query,
        body: input.body,
        principal,
        services,
        loaders: createLoaders(services.store),
        links: createLinks({ baseUrl, signer: services.urls, ttlSeconds: services.config.signedUrlTtlSeconds }),
      });
      response.headers.set('cache-control', response.headers.get('cache-control') ?? 'no-store');
      if (op.method !== 'get') audited(op, principal, found.params, response.status < 400, serverContext);
      return response;
    } catch (err) {
      // A refused write by an authenticated caller is audited too (an anonymous one never got this far).
      if (op && op.method !== 'get' && lastPrincipal) audited(op, lastPrincipal, {}, false, serverContext);
      if (err instanceof RestFailure) return errorResponse(err, url.pathname);
      if (err instanceof AppError) return errorResponse(restFailureOf(err, op?.renames), url.pathname);
      const log = currentLog(services.log);
      if (isDiskFull(err)) {
        log.error({ err, path: url.pathname }, 'disk full: a REST request could not store its data');
        const detail = 'The server has run out of disk space; nothing from this request was stored. Try again once space has been freed.';
        return errorResponse(new RestFailure(503, detail, { code: 'UNAVAILABLE' }), url.pathname);
      }
      log.error({ err, path: url.pathname }, 'REST call failed');
      const requestId = requestIdOf(request);
      return errorResponse(
        new RestFailure(500, 'unexpected error; see the gateway log for this request id', { code: 'INTERNAL_SERVER_ERROR', requestId }),
        url.pathname,
      );
    }
  };
}

/** The REST layer as a Yoga plugin (next to the HTTP routes), so `yoga.fetch` serves it too. */
export function restRoutes(services: Services): Plugin {
  const handler = createRestHandler({ services });
  return {
    // Synchronous for other paths (every GraphQL request passes here): see httpRoutes.
    onRequest({ request, url, endResponse, serverContext }) {
      if (!isRestPath(url.pathname)) return;
      return handler(request, serverContext).then((response) => {
        if (response) endResponse(response);
      });
    },
  };
}
