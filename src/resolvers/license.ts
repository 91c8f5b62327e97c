import { badInput } from '../errors.ts';
import { builder } from '../schema/builder.ts';
import { License } from '../schema/license.ts';

const MAX_LICENSE_BYTES = 64 * 1024;

builder.objectType(License, {
  description: 'The installed license (format: docs/license.md)',
  fields: (t) => ({
    expiresAt: t.field({ type: 'DateTime', nullable: true, description: 'null for a perpetual license', resolve: (l) => l.expiresAt }),
    valid: t.exposeBoolean('valid', { description: 'Signed by the vendor key, for this installation, and not expired' }),
    licensee: t.exposeString('licensee'),
    features: t.exposeStringList('features'),
  }),
});

builder.queryFields((t) => ({
  license: t.field({
    type: License,
    nullable: true,
    description: 'null when no license is installed',
    resolve: (_root, _args, ctx) => ctx.services.license.current(),
  }),
  nodeHash: t.string({
    description: 'Identifies this installation; a license is issued for it',
    resolve: (_root, _args, ctx) => ctx.services.license.nodeHash(),
  }),
}));

builder.mutationFields((t) => ({
  setLicense: t.field({
    type: License,
    description: 'Installs a license file (admin); BAD_USER_INPUT says why one is refused',
    skipTypeScopes: true,
    authScopes: { admin: true },
    args: { file: t.arg({ type: 'File', required: true }) },
    resolve: async (_root, { file }, ctx) => {
      if (file.size > MAX_LICENSE_BYTES) throw badInput(`the license file is larger than ${MAX_LICENSE_BYTES} bytes`, { argument: 'file' });
      const state = await ctx.services.license.install(await file.text());
      ctx.log.info({ licensee: state.licensee, expiresAt: state.expiresAt }, 'license installed');
      return state;
    },
  }),
}));
