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

/** Links kept per expiry step (a dashboard's pages of pictures); the cache starts over when full. */
const SIGNED_CACHE = 20_000;

export function createUrlSigner(opts: { secret: string; ttlSeconds: number; now?: () => number }): UrlSigner {
  const now = opts.now ?? Date.now;
  const ttl = Math.min(opts.ttlSeconds, MAX_SIGNED_URL_TTL_SECONDS);
  const mac = (canonical: string, exp: string) => createHmac('sha256', opts.secret).update(`${canonical}\n${exp}`).digest();

  /** Path and the remaining query, as the URL parser normalises them (same on both sides). */
  const canonicalOf = (u: URL) => {
    u.searchParams.delete('exp');
    u.searchParams.delete('sig');
    u.searchParams.sort();
    return u.pathname + u.search;
  };

  // Expiries move in steps of a sixtieth of the lifetime (at most a minute): a link lives between
  // ttl - step and ttl, the same picture gets the same URL for a step (browsers cache it), and a
  // page of pictures is signed once per step instead of once per request (an HMAC and a URL parse
  // each: a tenth of the server's time on a dashboard's item list, bench/graph.ts).
  const step = Math.max(1, Math.min(60, Math.floor(ttl / 60)));
  let signedFor = '';
  const signed = new Map<string, string>();
  return {
    sign(path) {
      const exp = String(Math.floor((Math.floor(now() / 1000) + ttl) / step) * step);
      if (exp !== signedFor) {
        signed.clear();
        signedFor = exp;
      }
      const hit = signed.get(path);
      if (hit !== undefined) return hit;
      const u = new URL(path, BASE);
      const canonical = canonicalOf(u);
      const sig = mac(canonical, exp).toString('base64url');
      // An absolute URL stays absolute; only its path and query are signed.
      const origin = /^[a-z][a-z0-9+.-]*:\/\//i.test(path) ? u.origin : '';
      const url = `${origin}${canonical}${canonical.includes('?') ? '&' : '?'}exp=${exp}&sig=${sig}`;
      if (signed.size >= SIGNED_CACHE) signed.clear();
      signed.set(path, url);
      return url;
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
