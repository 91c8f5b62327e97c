import type { Plugin } from 'graphql-yoga';
import type { Services } from '../context.ts';
import { FILES_PREFIX } from '../links.ts';
import { currentLog } from '../logging.ts';
import { checkReadiness } from '../observability/readiness.ts';
import { isDashboardPath, serveDashboard } from './dashboard.ts';
import { serveFile } from './files.ts';
import { clientAddress } from './client-address.ts';
import { issueTokenRoute, TOKEN_PATH } from './token.ts';
import { createOidc } from '../runtime/auth/oidc.ts';
import { OIDC_CALLBACK_PATH, OIDC_LOGIN_PATH, oidcRoute } from './oidc.ts';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });

/** 200 when the instance can take traffic (see observability/readiness.ts), 503 with what is down otherwise. */
async function readiness(services: Services): Promise<Response> {
  const { ready, checks, disk, predictQueues } = await checkReadiness(services);
  return json(ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', checks, disk, predictQueues });
}

/**
 * The plain HTTP routes next to /graphql. `GET /health` (alive) is Yoga's own health check.
 * Served as a Yoga plugin so that `yoga.fetch` reaches them in tests exactly as HTTP does.
 */
export function httpRoutes(services: Services): Plugin {
  const oidc = services.config.oidc ? createOidc(services.config.oidc) : null;
  return {
    // Synchronous unless a route matches: an async hook would cost every GraphQL request a
    // promise and a turn of the microtask queue (Yoga runs sync hooks inline).
    onRequest({ request, url, endResponse, serverContext }) {
      let route: (() => Promise<Response>) | null = null;
      if (url.pathname === '/readiness') route = () => readiness(services);
      else if (url.pathname === TOKEN_PATH) route = () => issueTokenRoute(request, services, clientAddress(serverContext));
      else if (url.pathname.startsWith(FILES_PREFIX)) route = () => serveFile(request, url, services);
      else if (oidc && (url.pathname === OIDC_LOGIN_PATH || url.pathname === OIDC_CALLBACK_PATH)) route = () => oidcRoute(request, url, services, oidc);
      else if (isDashboardPath(url.pathname)) route = async () => serveDashboard(request, services.config, url.pathname);
      if (!route) return;
      return Promise.resolve()
        .then(route!)
        .then(endResponse, (err: unknown) => {
          currentLog(services.log).error({ err, path: url.pathname }, 'route failed');
          endResponse(json(500, { errors: { title: 'Internal Server Error', detail: 'unexpected error', status: 500 } }));
        });
    },
  };
}
