import type { Services } from '../context.ts';
import { currentLog } from '../logging.ts';
import type { Oidc, OidcPending } from '../runtime/auth/oidc.ts';
import { readCookie, sessionCookie } from './session-cookie.ts';

/**
 * Single sign-on for the dashboard (OpenID Connect, authorization code flow with PKCE):
 * `GET /auth/oidc/login` sends the browser to the identity provider, which sends it back to
 * `GET /auth/oidc/callback`; that signs the person in (the same session cookie as a password
 * sign-in) and goes on to the dashboard. A failure goes back to the dashboard with
 * `?sso_error=…`, which the sign-in form shows.
 */
export const OIDC_LOGIN_PATH = '/auth/oidc/login';
export const OIDC_CALLBACK_PATH = '/auth/oidc/callback';
const PENDING_COOKIE = 'spectro_oidc';
const PENDING_TTL_S = 600;

const redirect = (location: string, cookies: string[] = []) => {
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  for (const c of cookies) headers.append('set-cookie', c);
  return new Response(null, { status: 302, headers });
};

const origin = (request: Request, publicUrl: string | null) => (publicUrl ?? new URL(request.url).origin).replace(/\/+$/, '');

/**
 * The pending sign-in rides in its own cookie: SameSite=Lax, because the way back from the
 * identity provider is a top-level navigation from another site (Strict would not be sent).
 */
function pendingCookie(request: Request, publicUrl: string | null, value: OidcPending | null): string {
  const secure = (publicUrl ?? request.url).startsWith('https:') ? '; Secure' : '';
  const body = value ? Buffer.from(JSON.stringify(value)).toString('base64url') : '';
  return `${PENDING_COOKIE}=${body}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=${value ? PENDING_TTL_S : 0}${secure}`;
}

function readPending(request: Request): OidcPending | null {
  const raw = readCookie(request, PENDING_COOKIE);
  if (!raw) return null;
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<OidcPending>;
    return typeof v.verifier === 'string' && typeof v.state === 'string' && typeof v.nonce === 'string' ? (v as OidcPending) : null;
  } catch {
    return null;
  }
}

export async function oidcRoute(request: Request, url: URL, services: Services, oidc: Oidc): Promise<Response> {
  const { publicUrl } = services.config;
  const base = origin(request, publicUrl);
  const redirectUri = `${base}${OIDC_CALLBACK_PATH}`;
  const back = (error: string) => redirect(`${base}/?sso_error=${encodeURIComponent(error)}`, [pendingCookie(request, publicUrl, null)]);
  if (request.method !== 'GET') return new Response(null, { status: 405, headers: { allow: 'GET' } });

  if (url.pathname === OIDC_LOGIN_PATH) {
    try {
      const { url: to, pending } = await oidc.start(redirectUri);
      return redirect(to, [pendingCookie(request, publicUrl, pending)]);
    } catch (err) {
      currentLog(services.log).warn({ err }, 'single sign-on: cannot start');
      return back((err as Error).message);
    }
  }

  const idpError = url.searchParams.get('error');
  if (idpError) return back(`the identity provider refused: ${url.searchParams.get('error_description') ?? idpError}`);
  const pending = readPending(request);
  if (!pending) return back('the sign-in took too long or was started in another browser; try again');
  try {
    const identity = await oidc.finish(url, pending, redirectUri);
    const s = await services.accounts.signInExternal(identity, request.headers.get('user-agent'));
    return redirect(`${base}/`, [
      pendingCookie(request, publicUrl, null),
      sessionCookie(request, publicUrl, s.sessionToken, services.config.sessionTtlSeconds),
    ]);
  } catch (err) {
    currentLog(services.log).warn({ err }, 'single sign-on: refused');
    return back((err as Error).message);
  }
}
