import { randomUUID } from 'node:crypto';
import { badInput, AppError, ErrorCode } from '../../errors.ts';
import { currentLog, type Logger } from '../../logging.ts';
import type { InferenceService } from '../inference/inference.ts';
import type { ItemsService } from '../items/items.ts';
import { stopReasonOf, type Job, type JobRunner } from '../jobs/jobs.ts';
import { createLocalJobs } from '../jobs/local.ts';
import { modelByRef, requireReady, storeLookup } from '../store/lookup.ts';
import type { Store } from '../store/store.ts';
import { ModelStatus, PredictionJobStatus, type PredictionJobError } from '../store/types.ts';
import type { PredictionJobView, PredictionsService } from './predictions.ts';

export type { PredictionJobView, PredictionsService } from './predictions.ts';

/** Items one predict call may judge (a synchronous request should not run for minutes). */
export const MAX_PREDICT_ITEMS = 1000;
/** Background predictions one instance runs at once; each already judges its pictures concurrently. */
const BACKGROUND_CONCURRENCY = 4;
/** Pictures a background job judges between two looks at its stop signal and two status writes. */
const BACKGROUND_CHUNK = 32;
/** A run that fails on the infrastructure (database, object storage) is tried this often in all. */
const ATTEMPTS = { attempts: 3, backoff: { type: 'exponential', delayMs: 2000 } } as const;

export interface PredictionsDeps {
  store: Store;
  items: Pick<ItemsService, 'addUploaded' | 'delete'>;
  inference: Pick<InferenceService, 'predict' | 'score' | 'predictEach' | 'republish'>;
  log: Logger;
  /** Where background jobs run (default: in this process, closed with the service). */
  jobs?: JobRunner;
  /** Whether this instance runs background predictions (ROLE=worker or all). Default true. */
  runs?: boolean;
}

interface PredictionJobData {
  jobId: string;
}

const TERMINAL: ReadonlySet<string> = new Set([PredictionJobStatus.DONE, PredictionJobStatus.FAILED, PredictionJobStatus.CANCELLED]);

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

  const ownJobs = !deps.jobs;
  const jobs = deps.jobs ?? createLocalJobs({ onError: (err, _queue, id) => log.error({ err, jobId: id }, 'prediction job run failed') });
  const finish = (id: string, status: PredictionJobStatus, statusText: string | null, errors: PredictionJobError[] = []) =>
    store.updatePredictionJob(id, { status, statusText, finished: true, errors });

  /**
   * One run of a background prediction. Pictures judged by an earlier run of the same job (its
   * worker died, or the run failed) are skipped, and the store keeps one assessment per job and
   * item: each picture is judged exactly once, whatever happens to the workers.
   */
  const run = async (job: Job<PredictionJobData>) => {
    const { jobId } = job.data;
    const [record] = await store.predictionJobsByIds([jobId]);
    // Gone with its model, or already over.
    if (!record || TERMINAL.has(record.status)) return;
    if (stopReasonOf(job.signal) === 'cancel') {
      await finish(jobId, PredictionJobStatus.CANCELLED, 'cancelled');
      return;
    }
    await store.updatePredictionJob(jobId, { status: PredictionJobStatus.RUNNING, statusText: job.attempt > 1 ? `run ${job.attempt}` : null, started: true });
    const [model] = await store.modelsByIds([record.modelId]);
    if (!model || model.status !== ModelStatus.READY) {
      await finish(jobId, PredictionJobStatus.FAILED, `model "${record.modelId}" is ${model ? model.status : 'gone'}; only a READY model can predict`);
      return;
    }
    const done = await store.judgedItemIds(jobId);
    const todo = record.itemIds.filter((id) => !done.has(id));
    // A run cut off between storing an assessment and publishing it leaves subscribers without it:
    // the next run publishes the earlier ones again (delivery is at least once; the ids tell).
    if (done.size > 0 && job.attempt > 1) await inference.republish(model, jobId);
    currentLog(log).info({ jobId, modelId: model.id, pictures: todo.length, judgedBefore: done.size, attempt: job.attempt }, 'prediction job started');
    let judged = done.size;
    let failed = record.errorCount;
    for (let i = 0; i < todo.length; i += BACKGROUND_CHUNK) {
      const why = stopReasonOf(job.signal);
      if (why === 'close') {
        // Left RUNNING: the queue hands it to another run, which goes on from here.
        log.warn({ jobId, judged, of: record.total }, 'prediction job stopped by a shutdown; it goes on elsewhere or at the next start');
        return;
      }
      if (why === 'cancel') {
        await finish(jobId, PredictionJobStatus.CANCELLED, `cancelled after ${judged} of ${record.total} pictures`);
        return;
      }
      const errors: PredictionJobError[] = [];
      judged += await inference.predictEach(model, todo.slice(i, i + BACKGROUND_CHUNK), {
        jobId,
        onError: (itemId, message) => errors.push({ itemId, message }),
      });
      failed += errors.length;
      if (errors.length) await store.updatePredictionJob(jobId, { errors });
      await job.progress((judged + failed) / Math.max(1, record.total));
    }
    const text = failed ? `${failed} of ${record.total} pictures could not be judged` : null;
    await finish(jobId, PredictionJobStatus.DONE, text);
    log.info({ jobId, judged, failed }, 'prediction job done');
  };

  const queue = jobs.queue<PredictionJobData>('prediction', deps.runs === false ? null : run, {
    concurrency: BACKGROUND_CONCURRENCY,
    onFailed: async ({ id }, error) => {
      const [record] = await store.predictionJobsByIds([id]);
      if (record && !TERMINAL.has(record.status)) await finish(id, PredictionJobStatus.FAILED, `the prediction failed: ${error.message}`);
    },
  });

  const view = async (ids: readonly string[]): Promise<PredictionJobView[]> => {
    const records = await store.predictionJobsByIds(ids);
    const counts = await store.predictionJobCounts(records.map((r) => r.id));
    return records.map((r) => ({ ...r, counts: { total: r.total, failed: r.errorCount, ...counts.get(r.id)! } }));
  };

  return {
    async predict(modelRef, itemIds) {
      const model = await readyModel(modelRef);
      return inference.predict(model, await predictionItems(itemIds));
    },

    async score(modelRef, itemIds) {
      const model = await readyModel(modelRef);
      return inference.score(model, await predictionItems(itemIds));
    },

    async predictUploaded(modelRef, files) {
      const model = await readyModel(modelRef);
      const { items: added } = await items.addUploaded({ files, training: false, targetId: model.targetId });
      const ids = added.map((i) => i.id);
      const assessments = await inference.predict(model, ids).catch(async (err) => {
        // The call stores its assessments whole or not at all: when it fails (refused by the
        // model's admission queue, a picture the model cannot judge, the model gone) it did
        // nothing, so its pictures go too; the client, who never learnt their ids, sends them again.
        await items.delete(ids).catch(() => {});
        throw err;
      });
      return { items: added, assessments };
    },

    async request(modelRef, itemIds) {
      const model = await readyModel(modelRef);
      const record = await store.createPredictionJob({
        id: randomUUID(),
        modelId: model.id,
        modelVersion: model.version,
        itemIds: await predictionItems(itemIds),
      });
      await queue.enqueue(record.id, { jobId: record.id }, ATTEMPTS);
      currentLog(log).info({ jobId: record.id, modelId: model.id, items: record.total }, 'prediction job queued');
      return (await view([record.id]))[0]!;
    },

    jobs: view,

    async cancelJob(id) {
      const [record] = await store.predictionJobsByIds([id]);
      if (!record) throw new AppError(ErrorCode.NOT_FOUND, `PredictionJob "${id}" not found`, { id });
      if (TERMINAL.has(record.status)) {
        throw new AppError(ErrorCode.CONFLICT, `prediction job "${id}" is ${record.status}; only a queued or running one can be cancelled`, { id });
      }
      const state = await queue.state(id);
      await queue.cancel(id);
      // Not started anywhere: nothing else writes its end. A running one ends itself at its next chunk.
      if (state !== 'running') await finish(id, PredictionJobStatus.CANCELLED, 'cancelled');
      return (await view([id]))[0]!;
    },

    async recover() {
      if (deps.runs === false) return;
      // Shared queues keep their jobs; queuing an id that is still there changes nothing, and
      // brings back one that a Redis without persistence lost.
      for (const r of await store.predictionJobsWithStatus([PredictionJobStatus.QUEUED, PredictionJobStatus.RUNNING])) {
        if (await queue.enqueue(r.id, { jobId: r.id }, ATTEMPTS)) log.info({ jobId: r.id }, 'prediction job queued again after a restart');
      }
    },

    async close() {
      if (ownJobs) await jobs.close();
    },
  };
}
