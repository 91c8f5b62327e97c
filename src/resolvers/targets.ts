import { DEFAULT_TARGET } from '../loaders.ts';
import { builder } from '../schema/builder.ts';
import { connectionFromPage, ItemConnection, ModelConnection, pageOf } from '../schema/connection.ts';
import { ItemType as ItemTypeEnum } from '../schema/items.ts';
import { PreprocessingInput, PreprocessingType, Target } from '../schema/targets.ts';

builder.node(Target, {
  description: 'What is inspected (a part, a product); owns its items and models',
  id: { resolve: (target) => target.id },
  loadManyWithoutCache: (ids, ctx) => ctx.loaders.target.loadMany(ids).then((r) => r.map((t) => (t instanceof Error ? null : t))),
  fields: (t) => ({
    restId: t.exposeInt('key', { description: "The integer id the REST API uses (target_id, and a model's context_id)" }),
    name: t.exposeString('name'),
    isDefault: t.exposeBoolean('isDefault'),
    preprocessing: t.field({ type: [PreprocessingType], resolve: (target) => target.preprocessing }),
    createdAt: t.field({ type: 'DateTime', resolve: (target) => target.createdAt }),
    items: t.field({
      type: ItemConnection,
      args: {
        type: t.arg({ type: ItemTypeEnum, description: 'Default: every item' }),
        first: t.arg.int(),
        after: t.arg.string(),
      },
      resolve: async (target, args, ctx) => {
        const key = { targetId: target.id, type: args.type ?? null, ...pageOf(args) };
        return connectionFromPage(await ctx.loaders.itemsByTarget.load(key), () => ctx.loaders.itemCountByTarget.load(key));
      },
    }),
    models: t.field({
      type: ModelConnection,
      args: { first: t.arg.int(), after: t.arg.string() },
      resolve: async (target, args, ctx) => {
        const key = { targetId: target.id, ...pageOf(args) };
        return connectionFromPage(await ctx.loaders.modelsByTarget.load(key), () => ctx.loaders.modelCountByTarget.load(key));
      },
    }),
  }),
});

builder.queryFields((t) => ({
  targets: t.field({
    type: [Target],
    resolve: async (_root, _args, ctx) => {
      const targets = await ctx.services.store.listTargets();
      for (const target of targets) ctx.loaders.target.prime(target.id, target);
      return targets;
    },
  }),
  target: t.field({
    type: Target,
    nullable: true,
    description: 'An unknown id is a NOT_FOUND error naming it (with null data); node(id) answers null instead',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.loaders.target.load(id),
  }),
  defaultTarget: t.field({
    type: Target,
    nullable: true,
    resolve: (_root, _args, ctx) => ctx.loaders.defaultTarget.load(DEFAULT_TARGET),
  }),
}));

builder.mutationFields((t) => ({
  createTarget: t.field({
    type: Target,
    // The engineer's work (scope train), not every scope.
    skipTypeScopes: true,
    authScopes: { train: true },
    description: 'Creates a target; the first target becomes the default one',
    args: {
      name: t.arg.string({ required: true }),
      preprocessing: t.arg({ type: [PreprocessingInput] }),
    },
    resolve: async (_root, args, ctx) => {
      const target = await ctx.services.targets.create(args.name, args.preprocessing);
      ctx.loaders.defaultTarget.clearAll();
      return target;
    },
  }),
  setDefaultTarget: t.field({
    type: Target,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const target = await ctx.services.targets.setDefault(id);
      ctx.loaders.target.clearAll();
      ctx.loaders.defaultTarget.clearAll();
      return target;
    },
  }),
}));
