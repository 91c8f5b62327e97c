import type { Scope, ScopeName } from '../store/types.ts';

/**
 * The scope vocabulary (shared with the dashboard): `read` (queries, subscriptions), `predict`
 * (run models), `train` (train, add training pictures), `admin` (clients, imports, deletions,
 * the audit trail). `all` is every one of them: the old spelling, still accepted everywhere.
 */
export const SCOPES = ['read', 'predict', 'train', 'admin'] as const;
export type GrantedScope = (typeof SCOPES)[number];

const KNOWN: ReadonlySet<string> = new Set<ScopeName>([...SCOPES, 'all']);

/** The scopes a space-separated text grants (`all` expanded); null when a name is unknown or none is given. */
export function parseScopes(text: unknown): ReadonlySet<GrantedScope> | null {
  if (typeof text !== 'string') return null;
  const names = text.split(/[\s,]+/).filter(Boolean);
  if (names.length === 0 || names.some((n) => !KNOWN.has(n))) return null;
  return new Set(names.includes('all') ? SCOPES : (names as GrantedScope[]));
}

/** The scopes as stored and carried in tokens: `all` when every one is granted, else sorted names. */
export function scopeText(scopes: ReadonlySet<GrantedScope>): Scope {
  return SCOPES.every((s) => scopes.has(s)) ? 'all' : SCOPES.filter((s) => scopes.has(s)).join(' ');
}

export const hasScope = (p: { scopes: ReadonlySet<GrantedScope> } | null | undefined, s: GrantedScope) => !!p && p.scopes.has(s);
/** Every scope: what the writes that have no finer scope of their own need. */
export const hasAllScopes = (p: { scopes: ReadonlySet<GrantedScope> } | null | undefined) => !!p && SCOPES.every((s) => p.scopes.has(s));

/** People's roles, each a set of scopes (a role has every scope of the roles before it). */
export const ROLES = ['viewer', 'operator', 'engineer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_SCOPES: Readonly<Record<Role, readonly GrantedScope[]>> = {
  viewer: ['read'],
  operator: ['read', 'predict'],
  engineer: ['read', 'predict', 'train'],
  admin: ['read', 'predict', 'train', 'admin'],
};

export const isRole = (v: unknown): v is Role => typeof v === 'string' && (ROLES as readonly string[]).includes(v);
