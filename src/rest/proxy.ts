import { Readable } from 'node:stream';
import type { Services } from '../context.ts';
import { AppError } from '../errors.ts';
import { authenticate } from './auth.ts';
import { RestFailure, statusForCode } from './http.ts';
import { chunks } from './router.ts';

export const UPSTREAM_PREFIX = '/upstream/';

const REQUEST_HEADERS = ['content-type', 'content-length', 'accept', 'accept-language', 'if-none-match'];
const RESPONSE_HEADERS = ['content-type', 'content-length', 'content-disposition', 'etag', 'cache-control', 'retry-after', 'last-modified'];

/**
 * `/upstream/<name>/api/v1/...`: another Spectro deployment's REST API through this gateway.
 * The caller authenticates here (reads need a token, writes scope `all`); the upstream sees the
 * gateway's own client credentials. Only the `/api/v1/` surface is reachable.
 */
export async function proxyUpstream(request: Request, url: URL, services: Services): Promise<Response> {
  const [, rawName, rest = '/'] = /^\/upstream\/([^/]+)(\/.*)?$/.exec(url.pathname) ?? [];
  let name: string;
  try {
    name = decodeURIComponent(rawName ?? '');
  } catch {
    // A broken escape (`%E0%A4%A`) is the caller's mistake, never a 500.
    throw new RestFailure(400, 'the upstream name in the path is not valid percent-encoding', { code: 'BAD_USER_INPUT' });
  }
  const client = services.upstreams.get(name);
  if (!client) throw new RestFailure(404, `no upstream named "${name}" is configured`, { code: 'NOT_FOUND' });

  const reads = request.method === 'GET' || request.method === 'HEAD';
  await authenticate(request, reads ? 'read' : 'all', services);
  if (!rest.startsWith('/api/v1/')) {
    throw new RestFailure(404, `only the REST API (/api/v1/...) of upstream "${name}" is reachable here`, { code: 'NOT_FOUND' });
  }

  const headers: Record<string, string> = {};
  for (const h of REQUEST_HEADERS) {
    const v = request.headers.get(h);
    if (v) headers[h] = v;
  }
  let res: Awaited<ReturnType<typeof client.request>>;
  try {
    res = await client.request({
      method: request.method as 'GET',
      path: `${rest}${url.search}`,
      headers,
      body: request.body && !reads ? Readable.from(chunks(request.body)) : null,
      signal: request.signal,
    });
  } catch (err) {
    if (err instanceof AppError) throw new RestFailure(statusForCode(err.code), err.message, { code: err.code });
    throw err;
  }
  if (res.status === 401 || res.status === 403) {
    await res.body.dump();
    throw new RestFailure(502, `upstream "${name}" refused the gateway's credentials (HTTP ${res.status})`, { code: 'UNAVAILABLE' });
  }
  const out = new Headers({ 'x-upstream': name });
  for (const h of RESPONSE_HEADERS) {
    const v = res.headers[h];
    if (typeof v === 'string') out.set(h, v);
  }
  const body = request.method === 'HEAD' || res.status === 204 || res.status === 304 ? null : (Readable.toWeb(res.body) as ReadableStream<Uint8Array>);
  if (!body) await res.body.dump();
  return new Response(body, { status: res.status, headers: out });
}
