import { createHmac, timingSafeEqual } from 'node:crypto';

export interface UrlSigner {
  /** `path` plus `exp` (epoch s) and `sig` (HMAC-SHA256, base64url) query parameters. */
  sign(path: string): string;
  /** False when the signature does not match (tampered path, query or exp) or the URL expired. */
  verify(pathWithQuery: string): boolean;
}

const BASE = 'http://signed.invalid';

/**
 * Signed, expiring links that work in an `<img>` without headers. The signature covers the
 * normalised path and every other query parameter, so none of them can be changed. `now` returns
 * epoch milliseconds.
 */
/** No signed link lives longer than this, whatever SIGNED_URL_TTL_SECONDS says. */
export const MAX_SIGNED_URL_TTL_SECONDS = 7 * 86_400;

export function createUrlSigner(opts: { secret: string; ttlSeconds: number; now?: () => number }): UrlSigner {
  const now = opts.now ?? Date.now;
  const ttl = Math.min(opts.ttlSeconds, MAX_SIGNED_URL_TTL_SECONDS);
  const mac = (canonical: string, exp: string) =>
    createHmac('sha256', opts.secret).update(`${canonical}\n${exp}`).digest();

  /** Path and the remaining query, as the URL parser normalises them (same on both sides). */
  const canonicalOf = (u: URL) => {
    u.searchParams.delete('exp');
    u.searchParams.delete('sig');
    u.searchParams.sort();
    return u.pathname + u.search;
  };

  return {
    sign(path) {
      const u = new URL(path, BASE);
      const exp = String(Math.floor(now() / 1000) + ttl);
      const canonical = canonicalOf(u);
      const sig = mac(canonical, exp).toString('base64url');
      // An absolute URL stays absolute; only its path and query are signed.
      const origin = /^[a-z][a-z0-9+.-]*:\/\//i.test(path) ? u.origin : '';
      return `${origin}${canonical}${canonical.includes('?') ? '&' : '?'}exp=${exp}&sig=${sig}`;
    },

    verify(pathWithQuery) {
      let u: URL;
      try {
        u = new URL(pathWithQuery, BASE);
      } catch {
        return false;
      }
      const exp = u.searchParams.get('exp');
      const sig = u.searchParams.get('sig');
      if (!exp || !sig || !/^\d{1,12}$/.test(exp)) return false;
      if (Number(exp) * 1000 < now()) return false;
      // Bounded lifetimes: a link expiring later than any this signer makes was not made by it (a
      // 10-year link minted with a leaked secret, or under an old, longer setting).
      if (Number(exp) > Math.floor(now() / 1000) + ttl + 60) return false;
      const given = Buffer.from(sig, 'base64url');
      const expected = mac(canonicalOf(u), exp);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
