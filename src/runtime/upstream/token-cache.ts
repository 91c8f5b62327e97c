import { decodeJwt } from 'jose';

export interface IssuedToken {
  accessToken: string;
  /** Epoch ms after which the token must not be used; null when the issuer did not say. */
  expiresAt: number | null;
}

/** Reads `expires_in` from a token response, else the JWT's own `exp` (not verified: it is the upstream's token). */
export function tokenFromResponse(body: { access_token?: unknown; expires_in?: unknown }, now = Date.now()): IssuedToken {
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw new Error('token response has no access_token');
  }
  const accessToken = body.access_token;
  if (typeof body.expires_in === 'number' && body.expires_in > 0) {
    return { accessToken, expiresAt: now + body.expires_in * 1000 };
  }
  try {
    const { exp } = decodeJwt(accessToken);
    return { accessToken, expiresAt: typeof exp === 'number' ? exp * 1000 : null };
  } catch {
    return { accessToken, expiresAt: null };
  }
}

/**
 * Holds one upstream token. Concurrent callers share one fetch; the token is replaced
 * `refreshMarginMs` before it expires (or 10 % of its life, whichever is smaller) so a call
 * never goes out with a token about to lapse, and `invalidate` drops it after a 401.
 */
export class TokenCache {
  private current: (IssuedToken & { obtainedAt: number }) | null = null;
  private pending: Promise<IssuedToken> | null = null;
  /** Tokens fetched so far (a health/diagnostics figure and what the refresh test observes). */
  fetches = 0;

  private readonly fetchToken: () => Promise<IssuedToken>;
  private readonly refreshMarginMs: number;
  private readonly now: () => number;

  constructor(fetchToken: () => Promise<IssuedToken>, refreshMarginMs = 30_000, now: () => number = Date.now) {
    this.fetchToken = fetchToken;
    this.refreshMarginMs = refreshMarginMs;
    this.now = now;
  }

  async get(): Promise<string> {
    const token = this.current;
    if (token && !this.stale(token)) return token.accessToken;
    return (await this.refresh()).accessToken;
  }

  /** Drops `rejected` (the token a 401 answered) unless a newer one already replaced it. */
  invalidate(rejected: string): void {
    if (this.current?.accessToken === rejected) this.current = null;
  }

  private stale(token: IssuedToken & { obtainedAt: number }): boolean {
    if (token.expiresAt === null) return false;
    const margin = Math.min(this.refreshMarginMs, (token.expiresAt - token.obtainedAt) * 0.1);
    return this.now() >= token.expiresAt - margin;
  }

  private refresh(): Promise<IssuedToken> {
    this.pending ??= this.fetchToken()
      .then((token) => {
        this.fetches += 1;
        this.current = { ...token, obtainedAt: this.now() };
        return token;
      })
      .finally(() => {
        this.pending = null;
      });
    return this.pending;
  }
}
