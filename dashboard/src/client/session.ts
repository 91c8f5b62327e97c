import { signal } from '@preact/signals';

export interface SessionUser {
  id: string;
  name: string;
  role: string;
  scopes: string[];
}
export interface Session {
  token: string;
  expiresAt: number;
  user: SessionUser;
}

/**
 * The access token lives in memory only; the session itself is an HttpOnly cookie the page never
 * sees. null: signed out.
 */
export const session = signal<Session | null>(null);

export const can = (scope: string) => !!session.value && session.value.user.scopes.includes(scope);
