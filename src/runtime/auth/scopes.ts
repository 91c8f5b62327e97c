/**
 * What a token may do. A token's `scope` claim is a space-separated list (RFC 6749 §3.3) of:
 * - `read`: queries and subscriptions;
 * - `predict`: judge pictures (upload and predict), on top of read;
 * - `train`: training data, training, models, targets: every ordinary change;
 * - `admin`: people, API clients, license, webhooks.
 * `all`, the scope of API clients made before the list existed, means every one of them.
 */
export const SCOPES = ['read', 'predict', 'train', 'admin'] as const;
export type ScopeName = (typeof SCOPES)[number];

/** People's roles, each a set of scopes (a role has every scope of the roles before it). */
export const ROLES = ['viewer', 'operator', 'engineer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_SCOPES: Readonly<Record<Role, readonly ScopeName[]>> = {
  viewer: ['read'],
  operator: ['read', 'predict'],
  engineer: ['read', 'predict', 'train'],
  admin: ['read', 'predict', 'train', 'admin'],
};

export const isRole = (v: unknown): v is Role => typeof v === 'string' && (ROLES as readonly string[]).includes(v);

/**
 * The scopes a claim grants; null when it names something unknown (a forged or future token is
 * refused, not half-understood). Each scope implies `read`; `all` implies everything.
 */
export function parseScopes(claim: unknown): Set<ScopeName> | null {
  if (typeof claim !== 'string') return null;
  const words = claim.split(/\s+/).filter(Boolean);
  if (!words.length) return null;
  const out = new Set<ScopeName>();
  for (const w of words) {
    if (w === 'all') for (const s of SCOPES) out.add(s);
    else if ((SCOPES as readonly string[]).includes(w)) out.add(w as ScopeName);
    else return null;
  }
  out.add('read');
  return out;
}

/** The canonical claim for a set: `all` when it is every scope (what older tokens and clients say). */
export function scopeClaim(scopes: Iterable<ScopeName>): string {
  const set = new Set(scopes);
  set.add('read');
  if (SCOPES.every((s) => set.has(s))) return 'all';
  return SCOPES.filter((s) => set.has(s)).join(' ');
}
