import { AppError, ErrorCode, badInput } from '../../errors.ts';
import { currentLog, type Logger } from '../../logging.ts';
import type { InferenceService } from '../inference/inference.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import { modelByRef, storeLookup } from '../store/lookup.ts';
import type { Store } from '../store/store.ts';
import { ModelStatus, type ModelRecord } from '../store/types.ts';
import type { TargetsService } from '../targets/targets.ts';
import type { TrainingService } from '../training/training.ts';
import { importModelArchive, writeModelArchive } from './archive.ts';
import type { ModelsService } from './models.ts';
import { resultsCsv } from './results-csv.ts';

export type { ModelsService, PreparedFile, PredictParametersPatch } from './models.ts';

/** Largest model archive `importArchive` reads. */
export const MAX_IMPORT_BYTES = 1024 * 1024 * 1024;

export interface ModelsDeps {
  store: Store;
  targets: TargetsService;
  training: Pick<TrainingService, 'cancel'>;
  inference: Pick<InferenceService, 'provider' | 'warmUp' | 'evict'>;
  log: Logger;
  /** Where `modelActivated` goes (webhooks, MQTT); none: not published. */
  pubsub?: Pick<PubSub, 'publish'>;
}

/** "active" and the active model's own id name the same model once. */
const uniqueModels = (models: ModelRecord[]) => [...new Map(models.map((m) => [m.id, m])).values()];

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');

const nonNegativeInt = (value: number, argument: string) => {
  if (!Number.isInteger(value) || value < 0) throw badInput(`${argument} must be a whole number >= 0, got ${value}`, { argument });
  return value;
};

export function createModelsService(deps: ModelsDeps): ModelsService {
  const { store, targets, training, inference } = deps;
  const lookup = storeLookup(store);
  const byRefs = async (refs: readonly string[]) => uniqueModels(await Promise.all(refs.map((ref) => modelByRef(lookup, ref))));

  return {
    async activate(ref) {
      const model = await modelByRef(lookup, ref);
      if (model.status !== ModelStatus.READY) {
        throw new AppError(ErrorCode.CONFLICT, `model "${model.id}" is ${model.status}; only a READY model can be activated`, { id: ref });
      }
      const activated = await store.activateModel(model.id);
      const log = currentLog(deps.log);
      await deps.pubsub
        ?.publish('modelActivated', activated.id, { modelId: activated.id, targetId: activated.targetId, at: new Date().toISOString() })
        .catch((err) => log.warn({ err, modelId: activated.id }, 'modelActivated not published'));
      // Load the session now, so that the first prediction with "active" does not pay for it.
      inference.warmUp(activated).catch((err) => log.warn({ err, modelId: activated.id }, 'warm-up failed'));
      return activated;
    },

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
      const algorithms = await store.algorithmsByIds([...new Set(models.map((m) => m.algorithmId))]);
      const { key } = await writeModelArchive(store, store.blobs.tmpDir, models, new Map(algorithms.map((a) => [a.id, a])));
      currentLog(deps.log).info({ models: models.map((m) => m.id), key }, 'models exported');
      return { key, contentType: 'application/zip', filename: `spectro-models-${stamp()}.zip`, models };
    },

    async importArchive(file, targetId) {
      if (file.size > MAX_IMPORT_BYTES) {
        throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `the archive is larger than ${MAX_IMPORT_BYTES} bytes`, { argument: 'file' });
      }
      const target = await targets.forNewRecords(targetId);
      const bytes = Buffer.from(await file.arrayBuffer());
      const models = await importModelArchive({ store, provider: inference.provider as 'cpu' | 'cuda' }, bytes, target.id);
      currentLog(deps.log).info({ models: models.map((m) => m.id), targetId: target.id }, 'models imported');
      return models;
    },

    async exportResults(refs) {
      const models = await byRefs(refs);
      const key = await store.blobs.put(await resultsCsv(store, models));
      return { key, contentType: 'text/csv; charset=utf-8', filename: `spectro-results-${stamp()}.csv` };
    },
  };
}
