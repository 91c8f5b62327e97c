import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, ErrorCode, badInput, notFound } from '../../errors.ts';
import { currentLog, type Logger } from '../../logging.ts';
import type { InferenceService } from '../inference/inference.ts';
import type { JobRunner } from '../jobs/jobs.ts';
import { createLocalJobs } from '../jobs/local.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import { modelByRef, storeLookup } from '../store/lookup.ts';
import type { Store } from '../store/store.ts';
import { ModelStatus, type ModelRecord } from '../store/types.ts';
import type { TargetsService } from '../targets/targets.ts';
import type { TrainingService } from '../training/training.ts';
import { defaultArchiveLimits, defaultVerifyBudget, importModelArchive, writeModelArchive, type ArchiveLimits } from './archive.ts';
import { killModelChecks, type VerifyBudget } from './verify-isolated.ts';
import type { ModelsService } from './models.ts';
import { resultsCsv } from './results-csv.ts';

export type { ModelsService, PreparedFile, PredictParametersPatch } from './models.ts';

/** Largest model archive a request may carry (IMPORT_MAX_ARCHIVE_BYTES may lower it). */
export const MAX_IMPORT_BYTES = defaultArchiveLimits.maxArchiveBytes;

export interface ModelsDeps {
  store: Store;
  targets: TargetsService;
  training: Pick<TrainingService, 'cancel'>;
  inference: Pick<InferenceService, 'provider' | 'warmUp' | 'evict'>;
  log: Logger;
  /** Where exports are built (default: in this process). */
  jobs?: JobRunner;
  /** Whether this instance builds exports (ROLE=worker or all). Default true. */
  runs?: boolean;
  /** Where `modelActivated` goes (webhooks, MQTT); none: not published. */
  pubsub?: Pick<PubSub, 'publish'>;
  /** Bounds of an imported archive and the budget of each model's check (docs/security.md). */
  importLimits?: ArchiveLimits;
  verifyBudget?: VerifyBudget;
}

/** An export to build: a zip of models, or the CSV of their results. */
interface ExportJob {
  kind: 'archive' | 'results';
  modelIds: string[];
}

/** How long a request waits for its export (a zip of many large models takes a while). */
const EXPORT_WAIT_MS = 10 * 60_000;

/** "active" and the active model's own id name the same model once. */
const uniqueModels = (models: ModelRecord[]) => [...new Map(models.map((m) => [m.id, m])).values()];

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');

const nonNegativeInt = (value: number, argument: string) => {
  if (!Number.isInteger(value) || value < 0) throw badInput(`${argument} must be a whole number >= 0, got ${value}`, { argument });
  return value;
};

/** A File's bytes chunk by chunk (Node's File or the Fetch ponyfill's that Yoga's uploads are). */
async function* fileChunks(file: Blob): AsyncGenerator<Uint8Array> {
  const reader = file.stream().getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

export function createModelsService(deps: ModelsDeps): ModelsService & { close(): Promise<void> } {
  const { store, targets, training, inference } = deps;
  const limits = deps.importLimits ?? defaultArchiveLimits;
  let importing = false;
  const lookup = storeLookup(store);
  const byRefs = async (refs: readonly string[]) => uniqueModels(await Promise.all(refs.map((ref) => modelByRef(lookup, ref))));

  // Exports are built by a worker (zipping large models is no work for an API instance): the
  // request queues the job and waits for the file's key.
  const ownJobs = !deps.jobs;
  const jobs = deps.jobs ?? createLocalJobs({ onError: (err, _q, id) => deps.log.warn({ err, jobId: id }, 'export failed') });
  const build = async ({ kind, modelIds }: ExportJob): Promise<{ key: string }> => {
    const models = await store.modelsByIds(modelIds);
    const byId = new Map(models.map((m) => [m.id, m]));
    const ordered = modelIds.map((id) => byId.get(id)).filter((m): m is ModelRecord => !!m);
    if (ordered.length !== modelIds.length) throw notFound('Model', modelIds.find((id) => !byId.has(id))!);
    if (kind === 'results') return { key: await store.blobs.put(await resultsCsv(store, ordered)) };
    const algorithms = await store.algorithmsByIds([...new Set(ordered.map((m) => m.algorithmId))]);
    return { key: (await writeModelArchive(store, store.blobs.tmpDir, ordered, new Map(algorithms.map((a) => [a.id, a])))).key };
  };
  const exports = jobs.queue<ExportJob, { key: string }>('export', deps.runs === false ? null : async (job) => build(job.data), { concurrency: 2 });
  const exported = async (job: ExportJob) => {
    const id = randomUUID();
    await exports.enqueue(id, job);
    try {
      return (await exports.result(id, EXPORT_WAIT_MS)).key;
    } catch (err) {
      // The job's own error when it failed (an AppError keeps its code), else the wait's.
      throw err instanceof AppError ? err : new AppError(ErrorCode.UNAVAILABLE, `the export could not be built: ${(err as Error).message}`);
    }
  };

  return {
    async activate(ref, actor = null) {
      const model = await modelByRef(lookup, ref);
      if (model.status !== ModelStatus.READY) {
        throw new AppError(ErrorCode.CONFLICT, `model "${model.id}" is ${model.status}; only a READY model can be activated`, { id: ref });
      }
      const activated = await store.activateModel(model.id, actor);
      const log = currentLog(deps.log);
      await deps.pubsub
        ?.publish('modelActivated', activated.id, { modelId: activated.id, targetId: activated.targetId, at: new Date().toISOString() })
        .catch((err) => log.warn({ err, modelId: activated.id }, 'modelActivated not published'));
      // Load the session now, so that the first prediction with "active" does not pay for it.
      inference.warmUp(activated).catch((err) => log.warn({ err, modelId: activated.id }, 'warm-up failed'));
      return activated;
    },

    activationHistory: (targetId, limit = 20) => store.activationHistory(targetId, Math.max(1, Math.min(100, Math.trunc(limit)))),

    async delete(ids) {
      const models = await store.modelsByIds(ids);
      const present = new Set(models.map((m) => m.id));
      const missing = [...new Set(ids)].filter((id) => !present.has(id));
      if (missing.length > 0) {
        throw new AppError(ErrorCode.NOT_FOUND, `Model ${missing.map((id) => `"${id}"`).join(', ')} not found`, { ids: missing });
      }
      for (const model of models) {
        if (model.status === ModelStatus.QUEUED || model.status === ModelStatus.TRAINING) await training.cancel(model.id);
      }
      const deleted = await store.deleteModels(models.map((m) => m.id));
      for (const id of deleted) inference.evict(id);
      return deleted;
    },

    async updatePredictParameters(ref, patch) {
      const model = await modelByRef(lookup, ref);
      const next = { ...model.predictParameters };
      if (patch.threshold != null) {
        if (!Number.isFinite(patch.threshold)) throw badInput('threshold must be a finite number', { argument: 'threshold' });
        next.threshold = patch.threshold;
      }
      if (patch.ignoreOuter != null) next.ignoreOuter = nonNegativeInt(patch.ignoreOuter, 'ignoreOuter');
      if (patch.minDetectedArea != null) next.minDetectedArea = nonNegativeInt(patch.minDetectedArea, 'minDetectedArea');
      return store.updateModel(model.id, { predictParameters: next });
    },

    async exportArchive(refs) {
      const models = await byRefs(refs);
      // Checked here, so that the request answers why (the job would only fail).
      for (const m of models) {
        if (!m.onnxBlob || m.status !== ModelStatus.READY)
          throw badInput(`model "${m.id}" is ${m.status} and has no trained ONNX graph to export`, { id: m.id });
      }
      const key = await exported({ kind: 'archive', modelIds: models.map((m) => m.id) });
      currentLog(deps.log).info({ models: models.map((m) => m.id), key }, 'models exported');
      return { key, contentType: 'application/zip', filename: `spectro-models-${stamp()}.zip`, models };
    },

    async importArchive(file, targetId) {
      if (file.size > limits.maxArchiveBytes) {
        throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `the archive is larger than ${limits.maxArchiveBytes} bytes (IMPORT_MAX_ARCHIVE_BYTES)`, {
          argument: 'file',
        });
      }
      // One import at a time: each unpacks up to IMPORT_MAX_UNPACKED_BYTES and runs a model check.
      if (importing) throw new AppError(ErrorCode.RATE_LIMITED, 'another model import is running; try again when it has finished', { retryAfter: 5 });
      importing = true;
      const zipPath = path.join(store.blobs.tmpDir, `import-upload-${randomUUID()}.zip`);
      try {
        const target = await targets.forNewRecords(targetId);
        fs.mkdirSync(store.blobs.tmpDir, { recursive: true });
        // To disk as it is read, not a second copy in memory.
        await pipeline(Readable.from(fileChunks(file)), fs.createWriteStream(zipPath));
        const models = await importModelArchive(
          { store, provider: inference.provider as 'cpu' | 'cuda', limits, verify: deps.verifyBudget ?? defaultVerifyBudget },
          zipPath,
          target.id,
        );
        currentLog(deps.log).info({ models: models.map((m) => m.id), targetId: target.id }, 'models imported');
        return models;
      } finally {
        importing = false;
        fs.rmSync(zipPath, { force: true });
      }
    },

    async exportResults(refs) {
      const models = await byRefs(refs);
      const key = await exported({ kind: 'results', modelIds: models.map((m) => m.id) });
      return { key, contentType: 'text/csv; charset=utf-8', filename: `spectro-results-${stamp()}.csv` };
    },

    async close() {
      // A model check still running at shutdown is killed, never waited for.
      killModelChecks();
      if (ownJobs) await jobs.close();
    },
  };
}
