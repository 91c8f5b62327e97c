import type { Plugin } from 'graphql-yoga';
import { requestIdOf, requestScope, type Logger } from '../logging.ts';

/**
 * Gives every request an id (the caller's `x-request-id` when sane), echoes it in the response,
 * runs the request inside `requestScope` so that code without a GraphQL context (error masking,
 * Yoga's own lines) logs with it, and writes one access line when the response is ready.
 */
export function requestLogging(log: Logger): Plugin {
  const started = new WeakMap<Request, number>();
  return {
    instrumentation: {
      request: ({ request }, wrapped) => {
        const requestId = requestIdOf(request);
        started.set(request, performance.now());
        return requestScope.run({ requestId, log: log.child({ requestId }) }, wrapped);
      },
    },
    onResponse({ request, response }) {
      const requestId = requestIdOf(request);
      response.headers.set('x-request-id', requestId);
      const t0 = started.get(request);
      const url = new URL(request.url);
      const line = {
        requestId,
        method: request.method,
        path: url.pathname,
        status: response.status,
        ms: t0 === undefined ? undefined : Math.round((performance.now() - t0) * 10) / 10,
      };
      if (response.status >= 500) log.error(line, 'request');
      else if (url.pathname === '/health' || url.pathname === '/readiness') log.debug(line, 'request');
      else log.info(line, 'request');
    },
  };
}
