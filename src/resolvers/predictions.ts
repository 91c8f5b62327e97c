import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Context } from '../context.ts';
import { AppError, ErrorCode, badInput } from '../errors.ts';
import { blobUrl, signedUrlExpiry } from '../http/files.ts';
import { ingestImages } from '../runtime/images/ingest.ts';
import { importModelArchive, writeModelArchive } from '../runtime/inference/archive.ts';
import { resultsCsv } from '../runtime/inference/results-csv.ts';
import type { ItemRecord, ModelRecord } from '../runtime/store/types.ts';
import { Assessment } from '../schema/assessments.ts';
import { builder } from '../schema/builder.ts';
import { Model } from '../schema/models.ts';
import { Download, PredictionJob, type DownloadShape } from '../schema/predictions.ts';
import { distinctIds, loadAll, loadModel } from './lookup.ts';

/** Items one predict call may judge (a synchronous request should not run for minutes). */
export const MAX_PREDICT_ITEMS = 1000;
/** Largest model archive importModels reads. */
export const MAX_IMPORT_BYTES = 1024 * 1024 * 1024;

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

/** The model to predict with: "active" resolved, READY, with its ONNX graph. */
async function readyModel(ctx: Context, modelId: string): Promise<ModelRecord> {
  const model = await loadModel(ctx, modelId);
  if (model.status !== 'READY' || !model.onnxBlob) {
    throw new AppError(ErrorCode.CONFLICT, `model "${model.id}" is ${model.status}; only a READY model can predict`, {
      argument: 'modelId',
      id: model.id,
    });
  }
  return model;
}

async function predictionItems(ctx: Context, itemIds: readonly string[]): Promise<ItemRecord[]> {
  const ids = distinctIds(itemIds, 'itemIds');
  if (ids.length > MAX_PREDICT_ITEMS) {
    throw badInput(`at most ${MAX_PREDICT_ITEMS} items per prediction, got ${ids.length}`, { argument: 'itemIds' });
  }
  return loadAll<ItemRecord>('Item', ids, (list) => ctx.loaders.item.loadMany(list));
}

async function download(ctx: Context, key: string, contentType: string, filename: string): Promise<DownloadShape> {
  return { url: blobUrl(ctx, key, contentType, filename), expiresAt: signedUrlExpiry(ctx.services) };
}

/** "active" and the active model's own id name the same model once. */
const uniqueModels = (models: ModelRecord[]) => [...new Map(models.map((m) => [m.id, m])).values()];

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');

builder.mutationFields((t) => ({
  predict: t.field({
    type: [Assessment],
    description: 'Judges the items now; returns when every assessment is stored (in itemIds order)',
    args: { modelId: t.arg.id({ required: true }), itemIds: t.arg.idList({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const model = await readyModel(ctx, args.modelId);
      const items = await predictionItems(ctx, args.itemIds);
      return ctx.services.inference.predict(model, items.map((i) => i.id));
    },
  }),
  predictImages: t.field({
    type: [Assessment],
    description: "Uploads pictures as PREDICTION items of the model's target and judges them in one request",
    args: { modelId: t.arg.id({ required: true }), files: t.arg({ type: ['File'], required: true }) },
    resolve: async (_root, args, ctx) => {
      const { store, config, inference } = ctx.services;
      const model = await readyModel(ctx, args.modelId);
      if (args.files.length === 0) throw badInput('files must not be empty', { argument: 'files' });
      if (args.files.length > config.upload.maxFiles) {
        throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `at most ${config.upload.maxFiles} files per request, got ${args.files.length}`, {
          argument: 'files',
        });
      }
      const { images, rollback } = await ingestImages(args.files, { blobs: store.blobs, limits: config.upload });
      let items: ItemRecord[];
      try {
        items = await store.addItems(
          images.map((image) => ({ name: image.name, targetId: model.targetId, type: 'PREDICTION', good: null, images: [image] })),
        );
      } catch (err) {
        await rollback();
        throw err;
      }
      for (const item of items) ctx.loaders.item.prime(item.id, item);
      return inference.predict(model, items.map((i) => i.id));
    },
  }),
  requestPrediction: t.field({
    type: PredictionJob,
    description: 'Judges the items in the background (as the REST predict); each result is stored, then published on predictionResults',
    args: { modelId: t.arg.id({ required: true }), itemIds: t.arg.idList({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const model = await readyModel(ctx, args.modelId);
      const items = await predictionItems(ctx, args.itemIds);
      const job = {
        id: randomUUID(),
        modelId: model.id,
        itemIds: items.map((i) => i.id),
        modelVersion: model.version,
        createdAt: new Date().toISOString(),
      };
      const log = ctx.log;
      log.info({ jobId: job.id, modelId: model.id, items: job.itemIds.length }, 'prediction job started');
      ctx.services.inference.predict(model, job.itemIds).then(
        (done) => log.info({ jobId: job.id, assessments: done.length }, 'prediction job done'),
        (err) => log.error({ err, jobId: job.id }, 'prediction job failed'),
      );
      return job;
    },
  }),
  exportModels: t.field({
    type: Download,
    description: 'A zip of the models (manifest.json and model.onnx per model folder), importable by importModels',
    args: { ids: t.arg.idList({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const { store, config } = ctx.services;
      const ids = distinctIds(args.ids, 'ids');
      const models = uniqueModels(await Promise.all(ids.map((id) => loadModel(ctx, id))));
      const algorithms = await store.algorithmsByIds([...new Set(models.map((m) => m.algorithmId))]);
      const { key } = await writeModelArchive(store, path.join(config.dataDir, 'tmp'), models, new Map(algorithms.map((a) => [a.id, a])));
      ctx.log.info({ models: models.map((m) => m.id), key }, 'models exported');
      return download(ctx, key, 'application/zip', `spectro-models-${stamp()}.zip`);
    },
  }),
  importModels: t.field({
    type: [Model],
    description: 'Imports an archive made by exportModels (or wrapped by hand, see docs/model-archive.md); all or nothing',
    args: {
      file: t.arg({ type: 'File', required: true }),
      targetId: t.arg.id({ description: 'Target the models join (default: the default target)' }),
    },
    resolve: async (_root, args, ctx) => {
      const { store, inference } = ctx.services;
      if (args.file.size > MAX_IMPORT_BYTES) {
        throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `the archive is larger than ${MAX_IMPORT_BYTES} bytes`, { argument: 'file' });
      }
      const target = args.targetId
        ? await ctx.loaders.target.load(args.targetId)
        : ((await store.defaultTarget()) ?? (await store.createTarget('default', [])));
      const bytes = Buffer.from(await args.file.arrayBuffer());
      const models = await importModelArchive({ store, provider: inference.provider as 'cpu' | 'cuda' }, bytes, target.id);
      ctx.log.info({ models: models.map((m) => m.id), targetId: target.id }, 'models imported');
      return models;
    },
  }),
  exportModelResults: t.field({
    type: Download,
    description: "CSV of the models' assessments (one row each)",
    args: { modelIds: t.arg.idList({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const { store } = ctx.services;
      const ids = distinctIds(args.modelIds, 'modelIds');
      const models = uniqueModels(await Promise.all(ids.map((id) => loadModel(ctx, id))));
      const key = await store.blobs.put(await resultsCsv(store, models));
      return download(ctx, key, 'text/csv; charset=utf-8', `spectro-results-${stamp()}.csv`);
    },
  }),
}));
