import type { JobQueue } from '../jobs/jobs.ts';
import type { Store } from '../store/store.ts';
import { type ModelRecord, ModelStatus } from '../store/types.ts';
import { algorithmById } from './algorithms/index.ts';
import type { Leases } from './leases.ts';
import type { TrainingJob } from './run-job.ts';
import type { TrainingLogger } from './training.ts';
import type { ModelUpdates } from './updates.ts';

/**
 * Takes over the jobs whose process is gone: QUEUED or TRAINING models that no instance holds a
 * live lease on are queued here again (from the start). A model of an algorithm this build lacks
 * is left to an instance that has it for a lease's length, then fails with a reason.
 */
export async function takeOverAbandoned(deps: {
  store: Store;
  leases: Leases;
  updates: ModelUpdates;
  queue: JobQueue<TrainingJob>;
  enqueue: (model: ModelRecord) => Promise<void>;
  log: TrainingLogger;
  leaseMs: number;
  closing: () => boolean;
}): Promise<void> {
  const { store, leases, updates, queue, log } = deps;
  const left = await store.modelsWithStatus([ModelStatus.QUEUED, ModelStatus.TRAINING]);
  const mine = new Set(queue.ids());
  for (const m of left) {
    if (deps.closing() || mine.has(m.id)) continue;
    if (await leases.live(m.id)) continue;
    if (!algorithmById(m.algorithmId)) {
      if (Date.now() - Date.parse(m.updatedAt) < deps.leaseMs) continue;
      await updates.update(m.id, {
        status: ModelStatus.FAILED,
        stage: 'failed',
        statusText: `training failed: algorithm "${m.algorithmId}" is not available on this server`,
      });
      continue;
    }
    await leases.hold(m.id);
    log.info({ modelId: m.id, status: m.status }, 'training: taking over a job whose process is gone');
    const queued = await updates.update(m.id, { status: ModelStatus.QUEUED, stage: 'queued', progress: 0, statusText: 'restarted after an interruption' });
    await deps.enqueue(queued);
  }
}
