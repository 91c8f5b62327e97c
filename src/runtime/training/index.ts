import { Piscina } from 'piscina';
import type { Config } from '../../config.ts';
import { AppError, ErrorCode, notFound } from '../../errors.ts';
import type { JobRunner } from '../jobs/jobs.ts';
import { createLocalJobs } from '../jobs/local.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import type { Store } from '../store/store.ts';
import { type ModelRecord, ModelStatus } from '../store/types.ts';
import type { TrainingMetrics } from '../telemetry/metrics.ts';
import { ALGORITHMS } from './algorithms/index.ts';
import { createLeases, LEASE_MS } from './leases.ts';
import { takeOverAbandoned } from './recovery.ts';
import { modelForRequest } from './request.ts';
import { trainingProcessor, type TrainingJob } from './run-job.ts';
import { trainingTelemetry } from './telemetry.ts';
import type { TrainRequest, TrainingLogger, TrainingService } from './training.ts';
import { modelUpdates } from './updates.ts';

export type { TrainRequest, TrainingLogger, TrainingService } from './training.ts';
export { MIN_OK_IMAGES } from './request.ts';
export { LEASE_MS } from './leases.ts';

export interface TrainingDeps {
  store: Store;
  pubsub: PubSub;
  config: Pick<Config, 'trainingConcurrency'>;
  log: TrainingLogger;
  /** Where the jobs run (default: in this process). */
  jobs?: JobRunner;
  /** Lease length (TRAINING_LEASE_MS; tests shorten it). */
  leaseMs?: number;
  /** Jobs queued and running, durations and outcomes (absent: not recorded). */
  metrics?: TrainingMetrics;
}

const CANCELLED = { status: ModelStatus.CANCELLED, stage: 'cancelled', statusText: 'cancelled by the user' } as const;
const INTERRUPTED = { status: ModelStatus.QUEUED, stage: 'queued', progress: 0, statusText: 'interrupted by a shutdown; runs again at the next start' } as const;

/**
 * The training service: the use case (request.ts: check the request, create the model QUEUED),
 * the `training` job queue whose processor trains in piscina worker threads (run-job.ts,
 * `trainingConcurrency` at once), and the coordination of instances that share a database
 * (leases.ts, recovery.ts, and cancels made elsewhere arriving as CANCELLED progress events).
 */
export async function createTrainingService(deps: TrainingDeps): Promise<TrainingService> {
  const { store, pubsub, log } = deps;
  await store.syncAlgorithms(ALGORITHMS.map((a) => a.definition));

  const concurrency = Math.max(1, deps.config.trainingConcurrency);
  const leaseMs = deps.leaseMs ?? LEASE_MS;
  const pool = new Piscina({
    filename: new URL('./worker.ts', import.meta.url).href,
    minThreads: 0,
    maxThreads: concurrency,
    idleTimeout: 5_000,
    concurrentTasksPerWorker: 1,
  });
  const updates = modelUpdates({ store, pubsub, log });
  const telemetry = trainingTelemetry(deps.metrics);
  // Late-bound: the leases renew what the queue holds, the queue's processor releases leases.
  let queueRef: { ids(): string[] } = { ids: () => [] };
  const leases = createLeases({ store, leaseMs, log, held: () => queueRef.ids() });
  const jobs = deps.jobs ?? createLocalJobs({ onError: (err, _queue, id) => log.error({ err, modelId: id }, 'training: job bookkeeping failed') });
  const queue = jobs.queue<TrainingJob>('training', trainingProcessor({ store, pool, updates, leases, log, telemetry }), { concurrency });
  const enqueue = async (model: ModelRecord) => {
    telemetry.queued(model.id, model.algorithmId);
    await queue.enqueue(model.id, { modelId: model.id });
  };
  queueRef = queue;
  let closing = false;

  // A cancel made on another instance reaches this one as a CANCELLED progress event.
  const events = pubsub.subscribe('trainingProgress');
  void (async () => {
    for await (const ev of events) {
      if (ev.status !== ModelStatus.CANCELLED) continue;
      const wasQueued = queue.state(ev.modelId) === 'queued';
      if (queue.cancel(ev.modelId) && wasQueued) {
        telemetry.dropped(ev.modelId, 'cancelled');
        await leases.release(ev.modelId).catch(() => {});
      }
    }
  })().catch((err) => log.warn({ err }, 'training: cancel events stopped'));

  let sweeper: NodeJS.Timeout | null = null;
  let sweeping: Promise<void> | null = null;
  const sweepOnce = () =>
    (sweeping ??= takeOverAbandoned({ store, leases, updates, queue, enqueue, log, leaseMs, closing: () => closing })
      .catch((err) => log.warn({ err }, 'training: recovery sweep failed'))
      .finally(() => (sweeping = null)));

  return {
    algorithms: ALGORITHMS.map((a) => a.definition),

    async train(req: TrainRequest) {
      if (closing) throw new AppError(ErrorCode.UNAVAILABLE, 'the training service is shutting down');
      const model = await store.createModel(await modelForRequest(store, req));
      await leases.hold(model.id);
      const queued = await updates.update(model.id, { stage: 'queued', progress: 0 });
      await enqueue(queued);
      return queued;
    },

    async cancel(modelId: string) {
      const [model] = await store.modelsByIds([modelId]);
      if (!model) throw notFound('Model', modelId);
      const wasRunning = queue.state(modelId) === 'running';
      if (queue.cancel(modelId)) {
        await queue.settled(modelId);
        if (wasRunning) return (await store.modelsByIds([modelId]))[0]!;
        // It never started, so no job wrote its end.
        telemetry.dropped(modelId, 'cancelled');
        await leases.release(modelId).catch(() => {});
      } else if (model.status !== ModelStatus.QUEUED && model.status !== ModelStatus.TRAINING) {
        throw new AppError(ErrorCode.CONFLICT, `model "${modelId}" is ${model.status}; only a queued or training model can be cancelled`, { id: modelId });
      }
      // Queued here, running on another instance (it stops on the CANCELLED event, or at the
      // latest before writing READY), or left by a process that is gone.
      return updates.update(modelId, CANCELLED);
    },

    async recover() {
      await sweepOnce();
      if (!sweeper && !closing) {
        sweeper = setInterval(() => void sweepOnce(), leaseMs);
        sweeper.unref();
      }
    },

    async close() {
      if (closing) return;
      closing = true;
      if (sweeper) clearInterval(sweeper);
      await sweeping;
      await events.return();
      const waiting = queue.ids().filter((id) => queue.state(id) === 'queued');
      await queue.close(); // running jobs end QUEUED (resumable), waiting ones are dropped:
      for (const id of waiting) {
        telemetry.dropped(id, 'interrupted');
        await updates.finish(id, INTERRUPTED).catch((err) => log.warn({ err, modelId: id }, 'training: could not mark an interrupted job'));
        await leases.release(id).catch(() => {});
      }
      leases.close();
      await pool.destroy();
    },
  };
}
