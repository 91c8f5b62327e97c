import type { Plugin } from 'graphql-yoga';
import type { Services } from '../context.ts';
import { currentLog } from '../logging.ts';
import { executorOf, graphqlFor, type YogaLike } from './graphql.ts';
import { RestFailure, errorResponse } from './http.ts';
import { UPSTREAM_PREFIX, proxyUpstream } from './proxy.ts';
import { compile, match } from './router.ts';
import { algorithmRoutes } from './routes/algorithms.ts';
import { itemRoutes } from './routes/items.ts';
import { modelRoutes } from './routes/models.ts';
import { targetRoutes } from './routes/targets.ts';
import { utilRoutes } from './routes/utils.ts';

export const REST_PREFIX = '/api/v1/';

const routes = compile([...targetRoutes, ...algorithmRoutes, ...modelRoutes, ...itemRoutes, ...utilRoutes]);

export type RestHandler = (request: Request, serverContext?: Record<string, unknown>) => Promise<Response | null>;

/**
 * spectro-rest-v1 for existing clients. Each call becomes GraphQL operations run through `yoga`
 * with the caller's headers, so auth, limits, masking and logging are the GraphQL ones; the answer
 * is mapped to the REST shapes and `extensions.code` to the REST status. Null: not a REST path
 * (`/api/auth/token` is served by the HTTP routes).
 */
export function createRestHandler({
  yoga,
  services,
}: {
  yoga: YogaLike;
  services: Services;
}): RestHandler {
  const execute = executorOf(yoga);
  return async (request, serverContext = {}) => {
    const url = new URL(request.url);
    const isRest = url.pathname.startsWith(REST_PREFIX) || url.pathname === REST_PREFIX.slice(0, -1);
    const isProxy = url.pathname.startsWith(UPSTREAM_PREFIX);
    if (!isRest && !isProxy) return null;
    try {
      if (isProxy) return await proxyUpstream(request, url, services);
      const found = match(routes, request.method, url.pathname);
      if (!found) throw new RestFailure(404, `no REST endpoint ${request.method} ${url.pathname}`, { code: 'NOT_FOUND' });
      if ('allowed' in found) {
        throw new RestFailure(405, `${url.pathname} accepts ${found.allowed.join(', ')}`, { headers: { allow: found.allowed.join(', ') } });
      }
      const gql = graphqlFor(execute, yoga.graphqlEndpoint, request, serverContext);
      const response = await found.route.handler({ request, url, params: found.params, gql, services });
      response.headers.set('cache-control', response.headers.get('cache-control') ?? 'no-store');
      return response;
    } catch (err) {
      if (err instanceof RestFailure) return errorResponse(err, url.pathname);
      currentLog(services.log).error({ err, path: url.pathname }, 'REST call failed');
      return errorResponse(new RestFailure(500, 'unexpected error; see the gateway log for this request id'), url.pathname);
    }
  };
}

/** The REST layer as a Yoga plugin (next to the HTTP routes), so `yoga.fetch` serves it too. */
export function restRoutes(services: Services): Plugin {
  let handler: RestHandler | null = null;
  return {
    onYogaInit({ yoga }) {
      handler = createRestHandler({ yoga: yoga as unknown as YogaLike, services });
    },
    async onRequest({ request, serverContext, endResponse }) {
      const response = await handler?.(request, serverContext as Record<string, unknown>);
      if (response) endResponse(response);
    },
  };
}
