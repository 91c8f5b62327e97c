import { randomUUID } from 'node:crypto';
import { badInput, AppError, ErrorCode } from '../../errors.ts';
import { currentLog, type Logger } from '../../logging.ts';
import type { InferenceService } from '../inference/inference.ts';
import type { ItemsService } from '../items/items.ts';
import type { JobRunner } from '../jobs/jobs.ts';
import { createLocalJobs } from '../jobs/local.ts';
import { modelByRef, requireReady, storeLookup } from '../store/lookup.ts';
import type { Store } from '../store/store.ts';
import type { ModelRecord } from '../store/types.ts';
import type { PredictionJobRecord, PredictionsService } from './predictions.ts';

export type { PredictionJobRecord, PredictionsService } from './predictions.ts';

/** Items one predict call may judge (a synchronous request should not run for minutes). */
export const MAX_PREDICT_ITEMS = 1000;
/** Background predictions running at once; each already judges its pictures concurrently. */
const BACKGROUND_CONCURRENCY = 4;
/** Pictures a background job judges between two looks at its stop signal. */
const BACKGROUND_CHUNK = 32;

export interface PredictionsDeps {
  store: Store;
  items: Pick<ItemsService, 'addUploaded'>;
  inference: Pick<InferenceService, 'predict'>;
  log: Logger;
  /** Where background jobs run (default: in this process). */
  jobs?: JobRunner;
}

interface BackgroundJob {
  record: PredictionJobRecord;
}

export function createPredictionsService(deps: PredictionsDeps): PredictionsService {
  const { store, items, inference, log } = deps;
  const lookup = storeLookup(store);
  const readyModel = async (ref: string) => requireReady(await modelByRef(lookup, ref));

  /** The items, each existing (NOT_FOUND naming the missing ones), at most MAX_PREDICT_ITEMS. */
  const predictionItems = async (itemIds: readonly string[]) => {
    const ids = [...new Set(itemIds)];
    if (ids.length > MAX_PREDICT_ITEMS) {
      throw badInput(`at most ${MAX_PREDICT_ITEMS} items per prediction, got ${ids.length}`, { argument: 'itemIds' });
    }
    const found = new Set((await store.itemsByIds(ids)).map((i) => i.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) {
      throw new AppError(ErrorCode.NOT_FOUND, `Item ${missing.map((id) => `"${id}"`).join(', ')} not found`, { ids: missing });
    }
    return ids;
  };

  const jobs = deps.jobs ?? createLocalJobs();
  const background = jobs.queue<BackgroundJob>(
    'prediction',
    async (job) => {
      const { record } = job.data;
      let model: ModelRecord;
      try {
        model = await readyModel(record.modelId);
      } catch (err) {
        log.error({ err, jobId: record.id }, 'prediction job failed');
        return;
      }
      let judged = 0;
      try {
        for (let i = 0; i < record.itemIds.length; i += BACKGROUND_CHUNK) {
          if (job.signal.aborted) {
            log.warn({ jobId: record.id, judged, of: record.itemIds.length }, 'prediction job stopped by a shutdown');
            return;
          }
          judged += (await inference.predict(model, record.itemIds.slice(i, i + BACKGROUND_CHUNK))).length;
        }
        log.info({ jobId: record.id, assessments: judged }, 'prediction job done');
      } catch (err) {
        log.error({ err, jobId: record.id, judged }, 'prediction job failed');
      }
    },
    { concurrency: BACKGROUND_CONCURRENCY },
  );

  return {
    async predict(modelRef, itemIds) {
      const model = await readyModel(modelRef);
      return inference.predict(model, await predictionItems(itemIds));
    },

    async predictUploaded(modelRef, files) {
      const model = await readyModel(modelRef);
      const { items: added } = await items.addUploaded({ files, training: false, targetId: model.targetId });
      const assessments = await inference.predict(model, added.map((i) => i.id));
      return { items: added, assessments };
    },

    async request(modelRef, itemIds) {
      const model = await readyModel(modelRef);
      const record: PredictionJobRecord = {
        id: randomUUID(),
        modelId: model.id,
        itemIds: await predictionItems(itemIds),
        modelVersion: model.version,
        createdAt: new Date().toISOString(),
      };
      currentLog(log).info({ jobId: record.id, modelId: model.id, items: record.itemIds.length }, 'prediction job started');
      await background.enqueue(record.id, { record });
      return record;
    },

    close: () => background.close(),
  };
}
