import { AppError, ErrorCode, badInput } from '../errors.ts';
import { imageUrl } from '../http/files.ts';
import { ingestImages } from '../runtime/images/ingest.ts';
import type { NewAnnotation } from '../runtime/store/store.ts';
import type { ItemRecord } from '../runtime/store/types.ts';
import { Annotation, AnnotationInput, Assessment, AssessmentResult, UserAssessment } from '../schema/assessments.ts';
import { builder } from '../schema/builder.ts';
import { connectionFromPage, ItemConnection, pageOf } from '../schema/connection.ts';
import { AddItemsPayload, Image, Item, ItemType } from '../schema/items.ts';
import { Target } from '../schema/targets.ts';
import { ACTIVE, distinctIds, loadAll, loadModel } from './lookup.ts';
import { validName } from './targets.ts';

builder.node(Item, {
  description: 'One inspected thing: its pictures, the user\'s label and boxes, and the models\' assessments',
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
      description: 'Newest first; modelId (or "active") narrows to one model',
      args: { modelId: t.arg.id() },
      resolve: async (item, { modelId }, ctx) => {
        // A target without an active model simply has no assessments by it: an error here would
        // null out the whole (non-null) list of items a dashboard asked for.
        if (modelId === ACTIVE) {
          const active = await ctx.loaders.activeModel.load(item.targetId);
          if (!active) return [];
          return ctx.loaders.assessmentsByItem.load({ itemId: item.id, modelId: active.id });
        }
        const model = modelId ? (await loadModel(ctx, modelId, item.targetId)).id : null;
        return ctx.loaders.assessmentsByItem.load({ itemId: item.id, modelId: model });
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
      resolve: (image, _args, ctx) => imageUrl(ctx, image),
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
      return connectionFromPage(
        await ctx.services.store.listItems({ type: args.type, targetId: args.targetId ?? null, modelId }, page),
      );
    },
  }),
  item: t.field({
    type: Item,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.loaders.item.load(id),
  }),
}));

function annotation(input: {
  xMin?: number | null;
  xMax?: number | null;
  yMin?: number | null;
  yMax?: number | null;
  label?: number | null;
  notes?: string | null;
  score?: number | null;
}, index: number): NewAnnotation {
  const where = `annotations[${index}]`;
  for (const key of ['xMin', 'xMax', 'yMin', 'yMax', 'score'] as const) {
    const v = input[key];
    if (v != null && (!Number.isFinite(v) || (key !== 'score' && v < 0))) {
      throw badInput(`${where}.${key} must be a finite number >= 0, got ${v}`, { argument: `${where}.${key}` });
    }
  }
  if (input.xMin != null && input.xMax != null && input.xMin > input.xMax) {
    throw badInput(`${where}: xMin (${input.xMin}) is greater than xMax (${input.xMax})`, { argument: where });
  }
  if (input.yMin != null && input.yMax != null && input.yMin > input.yMax) {
    throw badInput(`${where}: yMin (${input.yMin}) is greater than yMax (${input.yMax})`, { argument: where });
  }
  if (input.notes != null && input.notes.length > 10_000) {
    throw badInput(`${where}.notes is longer than 10000 characters`, { argument: `${where}.notes` });
  }
  return {
    xMin: input.xMin ?? null,
    xMax: input.xMax ?? null,
    yMin: input.yMin ?? null,
    yMax: input.yMax ?? null,
    label: input.label ?? null,
    notes: input.notes ?? null,
    score: input.score ?? null,
  };
}

builder.mutationFields((t) => ({
  addItems: t.field({
    type: AddItemsPayload,
    description:
      'Uploads pictures, one item per file, all or nothing. Target: targetId, else the target of modelId, else the default one (created as "default" when there is none).',
    args: {
      files: t.arg({ type: ['File'], required: true }),
      training: t.arg.boolean({ required: true }),
      good: t.arg.boolean({ description: 'OK (true) / NG (false) label for every file' }),
      targetId: t.arg.id(),
      modelId: t.arg.id({ description: 'Adds the items to this model\'s target ("active" allowed)' }),
    },
    resolve: async (_root, args, ctx) => {
      const { store, config } = ctx.services;
      if (args.files.length === 0) throw badInput('files must not be empty', { argument: 'files' });
      if (args.files.length > config.upload.maxFiles) {
        throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `at most ${config.upload.maxFiles} files per request, got ${args.files.length}`, {
          argument: 'files',
        });
      }
      let targetId = args.targetId ?? null;
      if (args.modelId) {
        const model = await loadModel(ctx, args.modelId, targetId);
        if (targetId && model.targetId !== targetId) {
          throw badInput(`model "${model.id}" belongs to another target than "${targetId}"`, { argument: 'modelId' });
        }
        targetId = model.targetId;
      }
      const target = targetId
        ? await ctx.loaders.target.load(targetId)
        : ((await store.defaultTarget()) ?? (await store.createTarget('default', [])));

      const { images, rollback } = await ingestImages(args.files, { blobs: store.blobs, limits: config.upload });
      try {
        const items = await store.addItems(
          images.map((image) => ({
            name: image.name,
            targetId: target.id,
            type: args.training ? 'TRAINING' : 'PREDICTION',
            good: args.good ?? null,
            images: [image],
          })),
        );
        ctx.log.info({ count: items.length, targetId: target.id }, 'items added');
        return { items };
      } catch (err) {
        await rollback();
        throw err;
      }
    },
  }),
  annotateItem: t.field({
    type: Item,
    description: "Replaces the user's boxes of an item; good/label also set its OK/NG label when given",
    args: {
      id: t.arg.id({ required: true }),
      annotations: t.arg({ type: [AnnotationInput], required: true }),
      good: t.arg.boolean(),
      label: t.arg.string(),
    },
    resolve: async (_root, args, ctx) => {
      const { store } = ctx.services;
      const item = await ctx.loaders.item.load(args.id);
      const annotations = args.annotations.map(annotation);
      let updated: ItemRecord = item;
      if (args.good !== undefined || args.label !== undefined) {
        const label = args.label == null ? null : validName(args.label, 'label');
        updated = await store.labelItem(
          item.id,
          args.good === undefined ? item.good : args.good,
          args.label === undefined ? item.userLabel : label,
        );
      }
      const saved = await store.setUserAnnotations(item.id, annotations);
      ctx.loaders.item.clear(item.id).prime(item.id, updated);
      ctx.loaders.userAnnotationsByItem.clear(item.id).prime(item.id, saved);
      return updated;
    },
  }),
  deleteItems: t.field({
    type: ['ID'],
    description: 'Deletes items with their pictures and assessments; returns the deleted ids',
    args: { ids: t.arg.idList({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const items = await loadAll<ItemRecord>('Item', distinctIds(args.ids, 'ids'), (ids) => ctx.loaders.item.loadMany(ids));
      const deleted = await ctx.services.store.deleteItems(items.map((i) => i.id));
      for (const id of deleted) ctx.loaders.item.clear(id);
      return deleted;
    },
  }),
}));

