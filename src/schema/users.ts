import { ROLES, SCOPES } from '../runtime/auth/scopes.ts';
import type { UserRecord, UserSessionRecord } from '../runtime/store/types.ts';
import { builder } from './builder.ts';

export const Role = builder.enumType('Role', {
  description:
    'What a person may do: viewer reads; operator also judges pictures; engineer also trains and changes models; admin also manages people, API clients, license and webhooks',
  values: Object.fromEntries(ROLES.map((r) => [r.toUpperCase(), { value: r }])) as Record<Uppercase<(typeof ROLES)[number]>, { value: (typeof ROLES)[number] }>,
});

export const ScopeEnum = builder.enumType('Scope', {
  description: 'A permission of a token: read, predict (judge pictures), train (every ordinary change), admin',
  values: Object.fromEntries(SCOPES.map((s) => [s.toUpperCase(), { value: s }])) as Record<
    Uppercase<(typeof SCOPES)[number]>,
    { value: (typeof SCOPES)[number] }
  >,
});

export const User = builder.objectRef<UserRecord>('User');
export const UserSession = builder.objectRef<UserSessionRecord>('UserSession');

export interface SessionShape {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
  sessionExpiresAt: string;
  user: UserRecord;
}
export const Session = builder.objectRef<SessionShape>('Session');

export interface ViewerShape {
  subject: string;
  scopes: string[];
  expiresAt: number;
  user: UserRecord | null;
}
export const Viewer = builder.objectRef<ViewerShape>('Viewer');
