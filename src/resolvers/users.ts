import { ErrorCode, AppError } from '../errors.ts';
import { ROLE_SCOPES, isRole } from '../runtime/auth/scopes.ts';
import { builder } from '../schema/builder.ts';
import { Role, ScopeEnum, Session, User, UserSession, Viewer } from '../schema/users.ts';

builder.objectType(User, {
  description: 'A person who signs in to the dashboard',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    role: t.field({ type: Role, resolve: (u) => (isRole(u.role) ? u.role : 'viewer') }),
    scopes: t.field({ type: [ScopeEnum], resolve: (u) => [...(isRole(u.role) ? ROLE_SCOPES[u.role] : ['read' as const])] }),
    disabled: t.exposeBoolean('disabled'),
    hasPassword: t.boolean({ description: 'False for people who sign in only through single sign-on', resolve: (u) => u.passwordHash !== null }),
    createdAt: t.field({ type: 'DateTime', resolve: (u) => u.createdAt }),
    sessions: t.field({
      type: [UserSession],
      description: 'Browsers signed in now (admin, or the person themself)',
      resolve: (u, _args, ctx) => {
        if (ctx.principal?.user?.id !== u.id && !ctx.principal?.scopes.has('admin'))
          throw new AppError(ErrorCode.FORBIDDEN, 'only admins see the sessions of others');
        return ctx.services.accounts.sessionsOf(u.id);
      },
    }),
  }),
});

builder.objectType(UserSession, {
  description: 'A signed-in browser; it stays signed in while used (SESSION_TTL after its last use)',
  fields: (t) => ({
    userAgent: t.exposeString('userAgent', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.createdAt }),
    lastSeenAt: t.field({ type: 'DateTime', resolve: (s) => s.lastSeenAt }),
    expiresAt: t.field({ type: 'DateTime', resolve: (s) => s.expiresAt }),
  }),
});

builder.objectType(Session, {
  description: 'A signed-in page: a short access token (send it as `Authorization: Bearer`); the session itself is in an HttpOnly cookie',
  fields: (t) => ({
    accessToken: t.exposeString('accessToken'),
    tokenType: t.exposeString('tokenType', { description: 'Always "Bearer"' }),
    expiresIn: t.exposeInt('expiresIn', { description: 'Seconds until the access token expires; refreshSession gives the next one' }),
    sessionExpiresAt: t.field({ type: 'DateTime', description: 'When the session ends unless used again', resolve: (s) => s.sessionExpiresAt }),
    user: t.field({ type: User, resolve: (s) => s.user }),
  }),
});

builder.objectType(Viewer, {
  description: 'Who the token belongs to',
  fields: (t) => ({
    subject: t.exposeString('subject', { description: 'The API client id, or user:<id> for a person' }),
    scopes: t.field({ type: [ScopeEnum], resolve: (v) => v.scopes as ('read' | 'predict' | 'train' | 'admin')[] }),
    expiresAt: t.field({ type: 'DateTime', description: 'When the token expires', resolve: (v) => new Date(v.expiresAt * 1000) }),
    user: t.field({ type: User, nullable: true, resolve: (v) => v.user }),
  }),
});

const SignInOptions = builder.objectRef<{ singleSignOn: string | null }>('SignInOptions').implement({
  description: 'How people may sign in to the dashboard',
  fields: (t) => ({
    passwords: t.boolean({ resolve: () => true }),
    singleSignOnUrl: t.string({
      nullable: true,
      description: 'Where the browser starts a single sign-on (OpenID Connect), or null when none is configured',
      resolve: (o) => o.singleSignOn,
    }),
    singleSignOnLabel: t.string({
      nullable: true,
      description: 'What to call it on the sign-in button (OIDC_LABEL)',
      resolve: (_o, _a, ctx) => ctx.services.config.oidc?.label ?? null,
    }),
  }),
});

builder.queryFields((t) => ({
  signInOptions: t.field({
    type: SignInOptions,
    description: 'How people may sign in; asked before signing in, so it needs no token',
    skipTypeScopes: true,
    resolve: (_root, _args, ctx) => ({ singleSignOn: ctx.services.config.oidc ? '/auth/oidc/login' : null }),
  }),
  me: t.field({
    type: Viewer,
    description: 'Who the token belongs to and what it may do',
    resolve: async (_root, _args, ctx) => {
      const p = ctx.principal!;
      return { subject: p.clientId, scopes: [...p.scopes], expiresAt: p.expiresAt, user: await ctx.services.accounts.userOf(p) };
    },
  }),
  users: t.field({
    type: [User],
    authScopes: { admin: true },
    description: 'Every person, by name (admin)',
    resolve: (_root, _args, ctx) => ctx.services.accounts.listUsers(),
  }),
}));

const clearCookie = (ctx: { session: { set(token: string | null, maxAge: number): void } }) => ctx.session.set(null, 0);

builder.mutationFields((t) => ({
  signIn: t.field({
    type: Session,
    description: 'A person signs in: sets the HttpOnly session cookie and answers a short access token',
    skipTypeScopes: true,
    args: { name: t.arg.string({ required: true }), password: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const s = await ctx.services.accounts.signIn(args.name, args.password, ctx.session.userAgent);
      ctx.session.set(s.sessionToken, ctx.services.config.sessionTtlSeconds);
      return s;
    },
  }),
  refreshSession: t.field({
    type: Session,
    description: "A fresh access token for the session cookie's session, which slides its expiry; UNAUTHENTICATED when it has ended",
    skipTypeScopes: true,
    resolve: async (_root, _args, ctx) => {
      try {
        const s = await ctx.services.accounts.refresh(ctx.session.token ?? '');
        ctx.session.set(s.sessionToken, ctx.services.config.sessionTtlSeconds);
        return s;
      } catch (err) {
        if (ctx.session.token) clearCookie(ctx);
        throw err;
      }
    },
  }),
  signOut: t.boolean({
    description: "Ends the session cookie's session (its access tokens run out within SESSION_TOKEN_TTL_SECONDS)",
    skipTypeScopes: true,
    resolve: async (_root, _args, ctx) => {
      await ctx.services.accounts.signOut(ctx.session.token ?? '');
      clearCookie(ctx);
      return true;
    },
  }),
  changePassword: t.boolean({
    description: 'A signed-in person changes their own password; their other browsers are signed out',
    skipTypeScopes: true,
    authScopes: { authenticated: true },
    args: { currentPassword: t.arg.string({ required: true }), newPassword: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await ctx.services.accounts.changeOwnPassword(ctx.principal!, args.currentPassword, args.newPassword);
      return true;
    },
  }),
  createUser: t.field({
    type: User,
    description: 'Adds a person (admin) with a first password of at least 8 characters',
    skipTypeScopes: true,
    authScopes: { admin: true },
    args: { name: t.arg.string({ required: true }), role: t.arg({ type: Role, required: true }), password: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => (await ctx.services.accounts.createUser(args)).user,
  }),
  updateUser: t.field({
    type: User,
    description: 'Changes a role, disables/enables, or sets a new password (admin); any of these signs the person out everywhere',
    skipTypeScopes: true,
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }), role: t.arg({ type: Role }), disabled: t.arg.boolean(), password: t.arg.string() },
    resolve: (_root, args, ctx) => ctx.services.accounts.updateUser(args.id, args),
  }),
  deleteUser: t.id({
    description: 'Removes a person and their sessions (admin); answers the id',
    skipTypeScopes: true,
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await ctx.services.accounts.deleteUser(args.id);
      return args.id;
    },
  }),
  revokeUserSessions: t.int({
    description: 'Signs a person out of every browser (admin); answers how many sessions ended',
    skipTypeScopes: true,
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.accounts.revokeSessions(args.id),
  }),
}));
