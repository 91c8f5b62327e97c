import { builder } from '../schema/builder.ts';
import { Token } from '../schema/auth.ts';

builder.objectType(Token, {
  description: 'An OAuth2 access token; send it as `Authorization: Bearer <accessToken>`',
  fields: (t) => ({
    accessToken: t.exposeString('accessToken'),
    tokenType: t.exposeString('tokenType', { description: 'Always "Bearer"' }),
    expiresIn: t.exposeInt('expiresIn', { description: 'Seconds until it expires' }),
  }),
});

builder.mutationField('token', (t) =>
  t.field({
    type: Token,
    description: 'Client-credentials login, the same as POST /api/auth/token; the only operation without a token',
    skipTypeScopes: true,
    args: {
      clientId: t.arg.string({ required: true }),
      clientSecret: t.arg.string({ required: true }),
    },
    resolve: (_root, args, ctx) => ctx.services.auth.issueToken(args.clientId, args.clientSecret, { source: ctx.source }),
  }),
);
