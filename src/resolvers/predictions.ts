import type { Context } from '../context.ts';
import type { PreparedFile } from '../runtime/models/models.ts';
import { Assessment } from '../schema/assessments.ts';
import { builder } from '../schema/builder.ts';
import { Model } from '../schema/models.ts';
import { Download, PredictionJob, type DownloadShape } from '../schema/predictions.ts';
import { distinctIds } from './lookup.ts';

builder.objectType(Download, {
  description: 'A signed link to a prepared file; works without headers until expiresAt',
  fields: (t) => ({
    url: t.exposeString('url'),
    expiresAt: t.field({ type: 'DateTime', resolve: (d) => d.expiresAt }),
  }),
});

builder.objectType(PredictionJob, {
  description: 'A prediction running in the background; each result arrives on predictionResults',
  fields: (t) => ({
    id: t.exposeID('id'),
    modelId: t.exposeID('modelId'),
    itemIds: t.exposeIDList('itemIds'),
    modelVersion: t.exposeString('modelVersion'),
    model: t.field({ type: Model, resolve: (job, _args, ctx) => ctx.loaders.model.load(job.modelId) }),
    createdAt: t.field({ type: 'DateTime', resolve: (job) => job.createdAt }),
  }),
});

const download = (ctx: Context, file: PreparedFile): DownloadShape => ({
  url: ctx.links.blob(file.key, file.contentType, file.filename),
  expiresAt: ctx.links.expiresAt(),
});

builder.mutationFields((t) => ({
  predict: t.field({
    type: [Assessment],
    description: 'Judges the items now; returns when every assessment is stored (in itemIds order)',
    args: { modelId: t.arg.id({ required: true }), itemIds: t.arg.idList({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.predictions.predict(args.modelId, distinctIds(args.itemIds, 'itemIds')),
  }),
  predictImages: t.field({
    type: [Assessment],
    description: "Uploads pictures as PREDICTION items of the model's target and judges them in one request",
    args: { modelId: t.arg.id({ required: true }), files: t.arg({ type: ['File'], required: true }) },
    resolve: async (_root, args, ctx) => {
      const { items, assessments } = await ctx.services.predictions.predictUploaded(args.modelId, args.files);
      for (const item of items) ctx.loaders.item.prime(item.id, item);
      return assessments;
    },
  }),
  requestPrediction: t.field({
    type: PredictionJob,
    description: 'Judges the items in the background (as the REST predict); each result is stored, then published on predictionResults',
    args: { modelId: t.arg.id({ required: true }), itemIds: t.arg.idList({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.predictions.request(args.modelId, distinctIds(args.itemIds, 'itemIds')),
  }),
  exportModels: t.field({
    type: Download,
    description: 'A zip of the models (manifest.json and model.onnx per model folder), importable by importModels',
    args: { ids: t.arg.idList({ required: true }) },
    resolve: async (_root, args, ctx) => download(ctx, await ctx.services.models.exportArchive(distinctIds(args.ids, 'ids'))),
  }),
  importModels: t.field({
    type: [Model],
    description: 'Imports an archive made by exportModels (or wrapped by hand, see docs/model-archive.md); all or nothing',
    args: {
      file: t.arg({ type: 'File', required: true }),
      targetId: t.arg.id({ description: 'Target the models join (default: the default target)' }),
    },
    resolve: (_root, args, ctx) => ctx.services.models.importArchive(args.file, args.targetId),
  }),
  exportModelResults: t.field({
    type: Download,
    description: "CSV of the models' assessments (one row each)",
    args: { modelIds: t.arg.idList({ required: true }) },
    resolve: async (_root, args, ctx) => download(ctx, await ctx.services.models.exportResults(distinctIds(args.modelIds, 'modelIds'))),
  }),
}));
