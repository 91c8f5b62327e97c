import type { Services } from '../context.ts';
import { AppError } from '../errors.ts';

/**
 * `POST /api/auth/token`, OAuth2 client credentials as the REST contract has it: a JSON body
 * `{grant_type, client_id, client_secret}` or the same fields form-encoded (RFC 6749 §4.4), client
 * credentials also accepted as HTTP Basic (§2.3.1). Errors carry both the REST contract's
 * BaseError shape and the OAuth2 `error` fields, so either kind of client understands them.
 */
export const TOKEN_PATH = '/api/auth/token';
const MAX_BODY = 16 * 1024;

function fail(status: number, error: string, detail: string, extraHeaders: Record<string, string> = {}): Response {
  const title =
    { 400: 'Bad Request', 401: 'Unauthorized', 405: 'Method Not Allowed', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests' }[
      status
    ] ?? 'Error';
  const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store', ...extraHeaders };
  if (status === 401) headers['www-authenticate'] = 'Basic realm="spectro", error="invalid_client"';
  if (status === 405) headers.allow = 'POST';
  const body = {
    error,
    error_description: detail,
    errors: { title, detail, status, source: { pointer: TOKEN_PATH } },
  };
  return new Response(JSON.stringify(body), { status, headers });
}

async function readFields(request: Request): Promise<Record<string, unknown> | Response> {
  const length = Number(request.headers.get('content-length') ?? 0);
  if (length > MAX_BODY) return fail(413, 'invalid_request', `the body is larger than ${MAX_BODY} bytes`);
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const raw = await request.text();
  if (raw.length > MAX_BODY) return fail(413, 'invalid_request', `the body is larger than ${MAX_BODY} bytes`);
  if (type === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // answered below
    }
    return fail(400, 'invalid_request', 'the body is not a JSON object');
  }
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(raw));
  if (type === '' && raw === '') return {};
  return fail(415, 'invalid_request', 'send application/json or application/x-www-form-urlencoded');
}

function basicCredentials(request: Request): { clientId: string; clientSecret: string } | null {
  const m = /^basic\s+([A-Za-z0-9+/=]+)$/i.exec(request.headers.get('authorization')?.trim() ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
  const part = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  try {
    return { clientId: part(decoded.slice(0, i)), clientSecret: part(decoded.slice(i + 1)) };
  } catch {
    return null;
  }
}

/** `source`: the caller's address, for the per-source limit (http/client-address.ts). */
export async function issueTokenRoute(request: Request, services: Services, source: string): Promise<Response> {
  if (request.method !== 'POST') return fail(405, 'invalid_request', 'use POST');
  const fields = await readFields(request);
  if (fields instanceof Response) return fields;
  const str = (k: string) => (typeof fields[k] === 'string' ? (fields[k] as string) : null);

  const grantType = str('grant_type');
  if (grantType === null) return fail(400, 'invalid_request', 'grant_type is required');
  if (grantType !== 'client_credentials') {
    return fail(400, 'unsupported_grant_type', `grant_type "${grantType}" is not supported; use "client_credentials"`);
  }
  const basic = basicCredentials(request);
  const clientId = str('client_id') ?? basic?.clientId ?? null;
  const clientSecret = str('client_secret') ?? basic?.clientSecret ?? null;
  if (!clientId || !clientSecret) return fail(400, 'invalid_request', 'client_id and client_secret are required');

  try {
    const token = await services.auth.issueToken(clientId, clientSecret, { source });
    return new Response(JSON.stringify({ access_token: token.accessToken, token_type: token.tokenType, expires_in: token.expiresIn }), {
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' },
    });
  } catch (err) {
    if (err instanceof AppError && err.code === 'UNAUTHENTICATED') return fail(401, 'invalid_client', err.message);
    if (err instanceof AppError && err.code === 'RATE_LIMITED') {
      // RFC 6749 has no code for this; `slow_down` is the device flow's (RFC 8628).
      return fail(429, 'slow_down', err.message, { 'retry-after': String(err.extensions.retryAfter ?? 1) });
    }
    throw err;
  }
}
