import { builder } from '../schema/builder.ts';
import { connectionFromPage, pageOf } from '../schema/connection.ts';
import { ApiClientSecret, ApiClientType, AuditEvent, AuditEventFilter } from '../schema/security.ts';

/** API clients and the audit trail: scope `admin` (docs/security.md). */
const admin = { admin: true } as const;

builder.objectType(ApiClientType, {
  description: 'An API client: OAuth2 client credentials with scopes',
  fields: (t) => ({
    clientId: t.exposeString('clientId'),
    name: t.exposeString('name', { nullable: true }),
    scopes: t.stringList({ description: '`read`, `predict`, `train`, `admin`, or `all` (every one)', resolve: (c) => c.scope.split(' ') }),
    createdAt: t.field({ type: 'DateTime', resolve: (c) => c.createdAt }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, description: 'Set once revoked: its tokens are refused', resolve: (c) => c.revokedAt }),
    rotatedAt: t.field({ type: 'DateTime', nullable: true, description: 'When its secret was last replaced', resolve: (c) => c.rotatedAt }),
  }),
});

builder.objectType(ApiClientSecret, {
  description: 'A client with its secret: shown once, only its hash is stored',
  fields: (t) => ({
    client: t.field({ type: ApiClientType, resolve: (r) => r.client }),
    clientSecret: t.exposeString('clientSecret'),
  }),
});

builder.objectType(AuditEvent, {
  description: 'One security-relevant action: who did what to which records, when, from where',
  fields: (t) => ({
    id: t.exposeID('id'),
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
    actor: t.exposeString('actor', { description: 'The client id (or user) that acted; "anonymous" when none' }),
    actorKind: t.exposeString('actorKind', { description: '"client", "user" or "system"' }),
    action: t.exposeString('action', { description: 'The GraphQL mutation, or the REST operationId' }),
    targetIds: t.exposeStringList('targetIds'),
    outcome: t.exposeString('outcome', { description: '"ok" or "failed"' }),
    detail: t.exposeString('detail', { nullable: true }),
    source: t.exposeString('source', { nullable: true, description: "The caller's address" }),
  }),
});

const AuditEventConnection = builder.connectionObject({ type: AuditEvent, name: 'AuditEventConnection' }, { name: 'AuditEventEdge' });

builder.queryFields((t) => ({
  apiClients: t.field({
    type: [ApiClientType],
    description: 'Every API client, newest first (scope admin)',
    authScopes: admin,
    resolve: (_root, _args, ctx) => ctx.services.auth.listClients(),
  }),
  auditEvents: t.field({
    type: AuditEventConnection,
    description: 'The audit trail, newest first (scope admin); GET /api/audit-events.ndjson exports it',
    authScopes: admin,
    args: { filter: t.arg({ type: AuditEventFilter }), first: t.arg.int(), after: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const f = args.filter ?? {};
      const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
      return connectionFromPage(
        await ctx.services.audit.list(
          { actor: f.actor ?? null, action: f.action ?? null, targetId: f.targetId ?? null, since: iso(f.since), until: iso(f.until) },
          pageOf(args),
        ),
      );
    },
  }),
}));

builder.mutationFields((t) => ({
  createApiClient: t.field({
    type: ApiClientSecret,
    description: 'A new API client with these scopes; its secret is in the answer only (scope admin)',
    skipTypeScopes: true,
    authScopes: admin,
    args: { name: t.arg.string(), scopes: t.arg.stringList({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const { clientId, clientSecret } = await ctx.services.auth.createClient(args.scopes.join(' '), args.name ?? null);
      const client = (await ctx.services.auth.listClients()).find((c) => c.clientId === clientId)!;
      return { client, clientSecret };
    },
  }),
  rotateApiClientSecret: t.field({
    type: ApiClientSecret,
    description: 'A new secret for the client; the old one stops working, tokens already issued run out (scope admin)',
    skipTypeScopes: true,
    authScopes: admin,
    args: { clientId: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.auth.rotateSecret(args.clientId),
  }),
  revokeApiClient: t.field({
    type: ApiClientType,
    description: 'Revokes the client: its tokens stop working at once, its open sockets are closed (scope admin)',
    skipTypeScopes: true,
    authScopes: admin,
    args: { clientId: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.auth.revokeClient(args.clientId),
  }),
}));
