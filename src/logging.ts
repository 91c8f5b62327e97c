import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'spectro-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Secrets travel in these places; never write them.
    redact: ['req.headers.authorization', 'clientSecret', 'client_secret', 'accessToken', 'access_token'],
  });
}

/**
 * The HTTP request being handled. Used where no GraphQL context is at hand (error masking,
 * Yoga's own log lines); resolvers log through `ctx.log`, a child logger carrying the id.
 */
export interface RequestScope {
  requestId: string;
  log: Logger;
}
export const requestScope = new AsyncLocalStorage<RequestScope>();

const requestIds = new WeakMap<Request, string>();
const SAFE_ID = /^[\w.:-]{1,128}$/;

/** The request's id: the caller's `x-request-id` when it is sane, else a new one. Stable per request. */
export function requestIdOf(request: Request): string {
  let id = requestIds.get(request);
  if (!id) {
    const given = request.headers.get('x-request-id');
    id = given && SAFE_ID.test(given) ? given : randomUUID();
    requestIds.set(request, id);
  }
  return id;
}

/** The logger for the current request, or `fallback` outside one. */
export const currentLog = (fallback: Logger): Logger => requestScope.getStore()?.log ?? fallback;
