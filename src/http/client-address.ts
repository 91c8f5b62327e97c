import type { IncomingMessage } from 'node:http';

/**
 * The peer address of a request, for per-source limits. Yoga's node adapter hands the
 * IncomingMessage over as `serverContext.req`; requests through `yoga.fetch` (tests, the REST
 * layer's own calls) have none and count as "local". X-Forwarded-For is not trusted: behind a
 * proxy every caller shares the proxy's address (docs/security.md).
 */
export function clientAddress(serverContext: unknown): string {
  const req = (serverContext as { req?: IncomingMessage } | null | undefined)?.req;
  return req?.socket?.remoteAddress ?? 'local';
}
