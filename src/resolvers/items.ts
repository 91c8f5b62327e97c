import { Annotation, AnnotationInput, Assessment, AssessmentResult, UserAssessment } from '../schema/assessments.ts';
import { builder } from '../schema/builder.ts';
import { connectionFromPage, ItemConnection, pageOf } from '../schema/connection.ts';
import { AddItemsPayload, Image, Item, ItemType } from '../schema/items.ts';
import { Target } from '../schema/targets.ts';
import { badInput } from '../errors.ts';
import { ACTIVE, distinctIds, loadModel } from './lookup.ts';

/** Item.assessments: how many without `first`, and the most one request may ask for. */
export const ASSESSMENTS_DEFAULT = 20;
export const ASSESSMENTS_MAX = 100;

builder.node(Item, {
  description: "One inspected thing: its pictures, the user's label and boxes, and the models' assessments",
  id: { resolve: (item) => item.id },
  loadManyWithoutCache: (ids, ctx) => ctx.loaders.item.loadMany(ids).then((r) => r.map((i) => (i instanceof Error ? null : i))),
  fields: (t) => ({
    name: t.exposeString('name'),
    type: t.field({ type: ItemType, resolve: (item) => item.type }),
    status: t.exposeString('status', { nullable: true }),
    active: t.exposeBoolean('active'),
    isTrainingData: t.boolean({ resolve: (item) => item.type === 'TRAINING' }),
    good: t.exposeBoolean('good', { nullable: true, description: "The user's OK (true) / NG (false) label; null when unlabelled" }),
    target: t.field({ type: Target, resolve: (item, _args, ctx) => ctx.loaders.target.load(item.targetId) }),
    images: t.field({ type: [Image], resolve: (item, _args, ctx) => ctx.loaders.imagesByItem.load(item.id) }),
    assessments: t.field({
      type: [Assessment],
      description: `Newest first, at most \`first\` (default ${ASSESSMENTS_DEFAULT}, at most ${ASSESSMENTS_MAX}); modelId (or "active") narrows to one model`,
      args: { modelId: t.arg.id(), first: t.arg.int({ description: `How many (1..${ASSESSMENTS_MAX}, default ${ASSESSMENTS_DEFAULT})` }) },
      resolve: async (item, { modelId, first }, ctx) => {
        // Bounded (issue 9, attack 12: one item held 1,764 of them, 459 KB, that the cost limit
        // never saw): a literal `first` counts in the cost limit like a connection's.
        const n = first ?? ASSESSMENTS_DEFAULT;
        if (!Number.isInteger(n) || n < 1 || n > ASSESSMENTS_MAX) {
          throw badInput(`first must be 1..${ASSESSMENTS_MAX}`, { argument: 'first' });
        }
        // A target without an active model simply has no assessments by it: an error here would
        // null out the whole (non-null) list of items a dashboard asked for.
        if (modelId === ACTIVE) {
          const active = await ctx.loaders.activeModel.load(item.targetId);
          if (!active) return [];
          return (await ctx.loaders.assessmentsByItem.load({ itemId: item.id, modelId: active.id })).slice(0, n);
        }
        const model = modelId ? (await loadModel(ctx, modelId, item.targetId)).id : null;
        return (await ctx.loaders.assessmentsByItem.load({ itemId: item.id, modelId: model })).slice(0, n);
      },
    }),
    assessmentCount: t.int({
      description: 'How many assessments the item has (modelId or "active" narrows to one model), past the `first` of `assessments`',
      args: { modelId: t.arg.id() },
      resolve: async (item, { modelId }, ctx) => {
        if (modelId === ACTIVE) {
          const active = await ctx.loaders.activeModel.load(item.targetId);
          return active ? (await ctx.loaders.assessmentsByItem.load({ itemId: item.id, modelId: active.id })).length : 0;
        }
        const model = modelId ? (await loadModel(ctx, modelId, item.targetId)).id : null;
        return (await ctx.loaders.assessmentsByItem.load({ itemId: item.id, modelId: model })).length;
      },
    }),
    userAssessment: t.field({ type: UserAssessment, nullable: true, resolve: (item) => item }),
    createdAt: t.field({ type: 'DateTime', resolve: (item) => item.createdAt }),
  }),
});

builder.objectType(Image, {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    url: t.string({
      description: 'Absolute signed URL of the bytes; works without headers (e.g. in <img>) until it expires',
      resolve: (image, _args, ctx) => ctx.links.image(image),
    }),
    width: t.exposeInt('width'),
    height: t.exposeInt('height'),
    fileSize: t.exposeInt('fileSize', { description: 'Bytes' }),
    contentType: t.exposeString('contentType'),
  }),
});

builder.objectType(UserAssessment, {
  description: "The user's label and boxes of an item",
  fields: (t) => ({
    label: t.exposeString('userLabel', { nullable: true }),
    result: t.field({
      type: AssessmentResult,
      nullable: true,
      resolve: (item) => (item.good === null ? null : item.good ? 'GOOD' : 'BAD'),
    }),
    annotations: t.field({
      type: [Annotation],
      resolve: (item, _args, ctx) => ctx.loaders.userAnnotationsByItem.load(item.id),
    }),
  }),
});

builder.objectType(AddItemsPayload, {
  fields: (t) => ({
    items: t.field({ type: [Item], resolve: (payload) => payload.items }),
  }),
});

builder.queryFields((t) => ({
  items: t.field({
    type: ItemConnection,
    description: 'Newest first. modelId (or "active") narrows to the items that model assessed or was trained on',
    args: {
      type: t.arg({ type: ItemType, required: true }),
      targetId: t.arg.id(),
      modelId: t.arg.id(),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: async (_root, args, ctx) => {
      const page = pageOf(args);
      const modelId = args.modelId ? (await loadModel(ctx, args.modelId, args.targetId)).id : null;
      if (args.targetId) await ctx.loaders.target.load(args.targetId);
      const filter = { type: args.type, targetId: args.targetId ?? null, modelId };
      const { store } = ctx.services;
      return connectionFromPage(await store.pageItems(filter, page), () => store.countItems(filter));
    },
  }),
  item: t.field({
    type: Item,
    nullable: true,
    description: 'An unknown id is a NOT_FOUND error naming it (with null data)',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.loaders.item.load(id),
  }),
}));

builder.mutationFields((t) => ({
  addItems: t.field({
    type: AddItemsPayload,
    description:
      'Uploads pictures, one item per file, all or nothing. Target: targetId, else the target of modelId, else the default one (created as "default" when there is none). Training pictures need scope train, pictures to judge scope predict.',
    skipTypeScopes: true,
    authScopes: (_root, args) => (args.training ? { train: true } : { predict: true }),
    args: {
      files: t.arg({ type: ['File'], required: true }),
      training: t.arg.boolean({ required: true }),
      good: t.arg.boolean({ description: 'OK (true) / NG (false) label for every file' }),
      targetId: t.arg.id(),
      modelId: t.arg.id({ description: 'Adds the items to this model\'s target ("active" allowed)' }),
    },
    resolve: async (_root, args, ctx) => {
      const { items } = await ctx.services.items.addUploaded({
        files: args.files,
        training: args.training,
        good: args.good,
        targetId: args.targetId,
        modelId: args.modelId,
      });
      for (const item of items) ctx.loaders.item.prime(item.id, item);
      return { items };
    },
  }),
  addToTraining: t.field({
    type: [Item],
    // The engineer's work (scope train), not every scope.
    skipTypeScopes: true,
    authScopes: { train: true },
    description:
      'Reviewed pictures become training pictures of their target, labelled OK (good: true) or NG, sharing the stored files; the reviewed items stay. Then train again.',
    args: { itemIds: t.arg.idList({ required: true }), good: t.arg.boolean({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const items = await ctx.services.items.addToTraining({ itemIds: args.itemIds, good: args.good });
      for (const item of items) ctx.loaders.item.prime(item.id, item);
      return items;
    },
  }),
  annotateItem: t.field({
    type: Item,
    // The engineer's work (scope train), not every scope.
    skipTypeScopes: true,
    authScopes: { train: true },
    description: "Replaces the user's boxes of an item; good/label also set its OK/NG label when given",
    args: {
      id: t.arg.id({ required: true }),
      annotations: t.arg({ type: [AnnotationInput], required: true }),
      good: t.arg.boolean(),
      label: t.arg.string(),
    },
    resolve: async (_root, args, ctx) => {
      const { item, annotations } = await ctx.services.items.annotate({
        itemId: args.id,
        annotations: args.annotations,
        good: args.good,
        label: args.label,
      });
      ctx.loaders.item.clear(item.id).prime(item.id, item);
      ctx.loaders.userAnnotationsByItem.clear(item.id).prime(item.id, annotations);
      return item;
    },
  }),
  deleteItems: t.field({
    type: ['ID'],
    description: 'Deletes items with their pictures and assessments; returns the deleted ids',
    args: { ids: t.arg.idList({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const deleted = await ctx.services.items.delete(distinctIds(args.ids, 'ids'));
      for (const id of deleted) ctx.loaders.item.clear(id);
      return deleted;
    },
  }),
}));
