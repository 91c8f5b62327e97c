import type { ApiClient } from '../runtime/auth/auth.ts';
import type { AuditEventRecord } from '../runtime/store/types.ts';
import { builder } from './builder.ts';

export const ApiClientType = builder.objectRef<ApiClient>('ApiClient');
export const ApiClientSecret = builder.objectRef<{ client: ApiClient; clientSecret: string }>('ApiClientSecret');
export const AuditEvent = builder.objectRef<AuditEventRecord>('AuditEvent');

export const AuditEventFilter = builder.inputType('AuditFilter', {
  description: 'Every field optional; all given ones must match',
  fields: (t) => ({
    actor: t.string({ description: 'The client id (or user) that acted' }),
    action: t.string({ description: 'The mutation or REST operationId, e.g. activateModel' }),
    targetId: t.id({ description: 'Events that name this record' }),
    since: t.field({ type: 'DateTime' }),
    until: t.field({ type: 'DateTime' }),
  }),
});
