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
  /** Where the jobs run (default: in this process, closed with the service). */
  jobs?: JobRunner;
  /** Whether this instance trains (ROLE=worker or all); false: it only queues (ROLE=api). Default true. */
  runs?: boolean;
  /** Lease length of in-process jobs (TRAINING_LEASE_MS; tests shorten it). Shared queues have their own. */
  leaseMs?: number;
  /** Jobs queued and running, durations and outcomes (absent: not recorded). */
  metrics?: TrainingMetrics;
}

const CANCELLED = { status: ModelStatus.CANCELLED, stage: 'cancelled', statusText: 'cancelled by the user' } as const;
/** Infrastructure failures (database, Redis) get this many runs; a training that fails is FAILED at once. */
const ATTEMPTS = { attempts: 3, backoff: { type: 'exponential', delayMs: 5000 } } as const;

/**
 * The training service: the use case (request.ts: check the request, create the model QUEUED),
 * the `training` job queue whose processor trains in piscina worker threads (run-job.ts,
 * `trainingConcurrency` at once). With a shared queue (BullMQ) the queue itself hands jobs of dead
 * workers to live ones and carries cancels; in-process, instances that share a database coordinate
 * through leases (leases.ts, recovery.ts) and cancels arrive as CANCELLED progress events.
 */
export async function createTrainingService(deps: TrainingDeps): Promise<TrainingService> {
  const { store, pubsub, log } = deps;
  await store.syncAlgorithms(ALGORITHMS.map((a) => a.definition));

  const concurrency = Math.max(1, deps.config.trainingConcurrency);
  const leaseMs = deps.leaseMs ?? LEASE_MS;
  const runs = deps.runs ?? true;
  const ownJobs = !deps.jobs;
  const jobs = deps.jobs ?? createLocalJobs({ onError: (err, _queue, id) => log.error({ err, modelId: id }, 'training: job bookkeeping failed') });
  const shared = jobs.shared;
  const pool = runs
    ? new Piscina({
        filename: new URL('./worker.ts', import.meta.url).href,
        minThreads: 0,
        maxThreads: concurrency,
        idleTimeout: 5_000,
        concurrentTasksPerWorker: 1,
      })
    : null;
  const updates = modelUpdates({ store, pubsub, log });
  const telemetry = trainingTelemetry(deps.metrics);
  // In-process only: leases renew what the queue holds here (late-bound), the processor releases them.
  let queueRef: { ids(): string[] } = { ids: () => [] };
  const leases = shared ? null : createLeases({ store, leaseMs, log, held: () => queueRef.ids() });
  const queue = jobs.queue<TrainingJob>('training', pool ? trainingProcessor({ store, pool, updates, leases, log, telemetry }) : null, {
    concurrency,
    // Out of runs (the database kept failing), or its workers kept dying: the model must not stay QUEUED.
    onFailed: async ({ id }, error) => {
      const [m] = await store.modelsByIds([id]);
      if (m && (m.status === ModelStatus.QUEUED || m.status === ModelStatus.TRAINING)) {
        await updates.finish(id, { status: ModelStatus.FAILED, stage: 'failed', statusText: `training failed: ${error.message}` });
      }
    },
  });
  const enqueue = async (model: ModelRecord) => {
    telemetry.queued(model.id, model.algorithmId);
    await queue.enqueue(model.id, { modelId: model.id }, ATTEMPTS);
  };
  queueRef = queue;
  let closing = false;

  // In-process: a cancel made on another instance (same database) arrives as a CANCELLED event.
  const events = shared ? null : pubsub.subscribe('trainingProgress');
  if (events) {
    void (async () => {
      for await (const ev of events) {
        if (ev.status !== ModelStatus.CANCELLED) continue;
        const wasQueued = (await queue.state(ev.modelId)) === 'queued';
        if ((await queue.cancel(ev.modelId)) && wasQueued) {
          telemetry.dropped(ev.modelId, 'cancelled');
          await leases?.release(ev.modelId).catch(() => {});
        }
      }
    })().catch((err) => log.warn({ err }, 'training: cancel events stopped'));
  }

  let sweeper: NodeJS.Timeout | null = null;
  let sweeping: Promise<void> | null = null;
  const sweepOnce = () =>
    (sweeping ??= takeOverAbandoned({ store, leases: leases!, updates, queue, enqueue, log, leaseMs, closing: () => closing })
      .catch((err) => log.warn({ err }, 'training: recovery sweep failed'))
      .finally(() => (sweeping = null)));

  return {
    algorithms: ALGORITHMS.map((a) => a.definition),

    async train(req: TrainRequest) {
      if (closing) throw new AppError(ErrorCode.UNAVAILABLE, 'the training service is shutting down');
      const model = await store.createModel(await modelForRequest(store, req));
      await leases?.hold(model.id);
      const queued = await updates.update(model.id, { stage: 'queued', progress: 0 });
      await enqueue(queued);
      return queued;
    },

    async cancel(modelId: string) {
      const [model] = await store.modelsByIds([modelId]);
      if (!model) throw notFound('Model', modelId);
      const state = await queue.state(modelId);
      const runningHere = queue.ids().includes(modelId) && state === 'running';
      if (await queue.cancel(modelId)) {
        if (runningHere) {
          // The job writes its own end (CANCELLED, or READY if it had just finished).
          await queue.result(modelId, 30_000).catch(() => {});
          return (await store.modelsByIds([modelId]))[0]!;
        }
        if (state !== 'running') {
          // It never started, so no job writes its end.
          telemetry.dropped(modelId, 'cancelled');
          await leases?.release(modelId).catch(() => {});
        }
      } else if (model.status !== ModelStatus.QUEUED && model.status !== ModelStatus.TRAINING) {
        throw new AppError(ErrorCode.CONFLICT, `model "${modelId}" is ${model.status}; only a queued or training model can be cancelled`, { id: modelId });
      }
      // Queued, running on another instance (it stops on the cancel, or at the latest before
      // writing READY), or left by a process that is gone.
      return updates.update(modelId, CANCELLED);
    },

    async recover() {
      // A shared queue keeps its jobs and gives those of dead workers to live ones.
      if (shared || !runs) return;
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
      await events?.return();
      // Running jobs end QUEUED (resumable: at the next start in-process, at once on another
      // worker where the queue is shared); a shared runner is closed by its owner before this.
      if (ownJobs) await jobs.close();
      leases?.close();
      await pool?.destroy();
    },
  };
}
