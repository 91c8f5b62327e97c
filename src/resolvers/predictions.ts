import type { Context } from '../context.ts';
import type { PreparedFile } from '../runtime/models/models.ts';
import { Assessment, AssessmentResult } from '../schema/assessments.ts';
import { Item } from '../schema/items.ts';
import { builder } from '../schema/builder.ts';
import { Model } from '../schema/models.ts';
import { Download, PredictionJob, PredictionJobCounts, PredictionJobError, PredictionJobStatus, type DownloadShape } from '../schema/predictions.ts';
import { distinctIds, orderedIds } from './lookup.ts';

builder.objectType(Download, {
  description: 'A signed link to a prepared file; works without headers until expiresAt',
  fields: (t) => ({
    url: t.exposeString('url'),
    expiresAt: t.field({ type: 'DateTime', resolve: (d) => d.expiresAt }),
  }),
});

builder.objectType(PredictionJob, {
  description:
    'A prediction running in the background (requestPrediction). Each result is stored and arrives on predictionResults as soon as its ' +
    'picture is judged; predictionJob(id) tells how far it is. It survives restarts and workers that die, judging each picture exactly once.',
  fields: (t) => ({
    id: t.exposeID('id'),
    modelId: t.exposeID('modelId'),
    itemIds: t.exposeIDList('itemIds'),
    modelVersion: t.exposeString('modelVersion'),
    model: t.field({ type: Model, resolve: (job, _args, ctx) => ctx.loaders.model.load(job.modelId) }),
    status: t.field({ type: PredictionJobStatus, resolve: (job) => job.status }),
    statusText: t.exposeString('statusText', { nullable: true, description: 'Why it failed or was cancelled, or how many pictures could not be judged' }),
    progress: t.float({
      description: 'Pictures done (judged or failed) out of all of them, 0..1; 1 once DONE',
      resolve: (job) => (job.status === 'DONE' ? 1 : job.total === 0 ? 0 : Math.min(1, (job.counts.judged + job.counts.failed) / job.total)),
    }),
    counts: t.field({ type: PredictionJobCounts, resolve: (job) => job.counts }),
    errors: t.field({
      type: [PredictionJobError],
      description: 'Pictures that could not be judged (the first 100; counts.failed counts all)',
      resolve: (job) => job.errors,
    }),
    attempts: t.exposeInt('attempts', { description: 'Runs started: more than 1 when a worker died or a run failed and was retried' }),
    createdAt: t.field({ type: 'DateTime', resolve: (job) => job.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (job) => job.updatedAt }),
    startedAt: t.field({ type: 'DateTime', nullable: true, description: 'When its latest run started', resolve: (job) => job.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (job) => job.finishedAt }),
  }),
});

builder.objectType(PredictionJobCounts, {
  description: 'Pictures of a background prediction: judged = good + bad; total = judged + failed + those still to do',
  fields: (t) => ({
    total: t.exposeInt('total'),
    judged: t.exposeInt('judged'),
    good: t.exposeInt('good'),
    bad: t.exposeInt('bad'),
    failed: t.exposeInt('failed'),
  }),
});

builder.objectType(PredictionJobError, {
  description: 'A picture a background prediction could not judge',
  fields: (t) => ({
    itemId: t.exposeID('itemId'),
    message: t.exposeString('message'),
  }),
});

builder.queryFields((t) => ({
  predictionJob: t.field({
    type: PredictionJob,
    nullable: true,
    description: 'A background prediction: status, progress, counts and errors; null when there is none with that id',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => (await ctx.services.predictions.jobs([args.id]))[0] ?? null,
  }),
}));

const download = (ctx: Context, file: PreparedFile): DownloadShape => ({
  url: ctx.links.blob(file.key, file.contentType, file.filename),
  expiresAt: ctx.links.expiresAt(),
});

const ItemScore = builder.objectRef<{ itemId: string; score: number; threshold: number; result: 'GOOD' | 'BAD' }>('ItemScore').implement({
  description: "An item's verdict measured without storing an assessment",
  fields: (t) => ({
    item: t.field({ type: Item, resolve: (s, _args, ctx) => ctx.loaders.item.load(s.itemId) }),
    score: t.exposeFloat('score'),
    threshold: t.exposeFloat('threshold'),
    result: t.field({ type: AssessmentResult, resolve: (s) => s.result }),
  }),
});

builder.queryField('scoreItems', (t) =>
  t.field({
    type: [ItemScore],
    description:
      'Judges the items with the model now, storing and publishing nothing (no result reaches the line): the threshold preview and model comparison on labelled pictures. In itemIds order',
    authScopes: { predict: true },
    args: { modelId: t.arg.id({ required: true }), itemIds: t.arg.idList({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.predictions.score(args.modelId, args.itemIds),
  }),
);

builder.mutationFields((t) => ({
  predict: t.field({
    type: [Assessment],
    // Operators judge pictures: scope predict, not the train every other change needs.
    skipTypeScopes: true,
    authScopes: { predict: true },
    description: 'Judges the items now; returns when every assessment is stored (in itemIds order)',
    args: { modelId: t.arg.id({ required: true }), itemIds: t.arg.idList({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.predictions.predict(args.modelId, orderedIds(args.itemIds, 'itemIds')),
  }),
  predictImages: t.field({
    type: [Assessment],
    // Operators judge pictures: scope predict, not the train every other change needs.
    skipTypeScopes: true,
    authScopes: { predict: true },
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
    // Operators judge pictures: scope predict, not the train every other change needs.
    skipTypeScopes: true,
    authScopes: { predict: true },
    description: 'Judges the items in the background (as the REST predict); each result is stored, then published on predictionResults',
    args: { modelId: t.arg.id({ required: true }), itemIds: t.arg.idList({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.predictions.request(args.modelId, distinctIds(args.itemIds, 'itemIds')),
  }),
  cancelPredictionJob: t.field({
    type: PredictionJob,
    // Operators judge pictures: scope predict, not the train every other change needs.
    skipTypeScopes: true,
    authScopes: { predict: true },
    description: 'Stops a queued or running background prediction; what was judged stays. CONFLICT once it has ended',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.predictions.cancelJob(args.id),
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
