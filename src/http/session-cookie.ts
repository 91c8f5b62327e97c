import type { Plugin } from 'graphql-yoga';

/**
 * The dashboard's session cookie: HttpOnly (page scripts never see it), SameSite=Strict (no other
 * site's page sends it), Secure when the gateway is reached over HTTPS. It holds only a random
 * session token; the page asks `refreshSession` for short access tokens with it.
 */
export const SESSION_COOKIE = 'spectro_session';

export function readCookie(request: Request, name = SESSION_COOKIE): string | null {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim()) || null;
  }
  return null;
}

/** HTTPS as the browser sees it: the request itself, a TLS-terminating proxy, or PUBLIC_URL. */
function secure(request: Request, publicUrl: string | null): boolean {
  if (publicUrl) return publicUrl.startsWith('https:');
  return new URL(request.url).protocol === 'https:' || request.headers.get('x-forwarded-proto') === 'https';
}

export function sessionCookie(request: Request, publicUrl: string | null, value: string | null, maxAgeSeconds: number): string {
  const parts = [
    `${SESSION_COOKIE}=${value ? encodeURIComponent(value) : ''}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${value ? maxAgeSeconds : 0}`,
  ];
  if (secure(request, publicUrl)) parts.push('Secure');
  return parts.join('; ');
}

const pending = new WeakMap<Request, string[]>();

/** Queues a Set-Cookie header for the response to `request` (resolvers have no response to write to). */
export function queueCookie(request: Request, cookie: string): void {
  const list = pending.get(request);
  if (list) list.push(cookie);
  else pending.set(request, [cookie]);
}

/** Writes the cookies resolvers queued onto the HTTP response. */
export function sessionCookies(): Plugin {
  return {
    onResponse({ request, response }) {
      const list = pending.get(request);
      if (!list) return;
      pending.delete(request);
      for (const c of list) response.headers.append('set-cookie', c);
      // A response that sets a session must never be stored by a cache on the way.
      response.headers.set('cache-control', 'no-store');
    },
  };
}
