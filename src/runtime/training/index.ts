import { randomUUID } from 'node:crypto';
import { MessageChannel } from 'node:worker_threads';
import { type Span, trace } from '@opentelemetry/api';
import { Piscina } from 'piscina';
import type { Config } from '../../config.ts';
import { AppError, ErrorCode, badInput, notFound } from '../../errors.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import type { Store } from '../store/store.ts';
import { type ItemRecord, ItemType, type ModelRecord, ModelStatus } from '../store/types.ts';
import type { TrainingMetrics } from '../telemetry/metrics.ts';
import { inSpan, recordError, tracer } from '../telemetry/tracing.ts';
import { ALGORITHMS, algorithmById } from './algorithms/index.ts';
import { checkValue, effectiveParams, num, optionalNum } from './algorithms/params.ts';
import type { TrainRequest, TrainingService } from './training.ts';
import type { ProgressMessage, WorkerResult, WorkerTask } from './worker.ts';

export type { TrainRequest, TrainingService } from './training.ts';

export interface TrainingLogger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

export interface TrainingDeps {
  store: Store;
  pubsub: PubSub;
  config: Pick<Config, 'trainingConcurrency'>;
  log: TrainingLogger;
  /** Lease length (tests shorten it). */
  leaseMs?: number;
  /** Jobs queued and running, durations and outcomes (absent: not recorded). */
  metrics?: TrainingMetrics;
}

/** Fewest OK pictures a model can learn from (held-out scores need two). */
export const MIN_OK_IMAGES = 2;
/** Progress is written to the store at most this often (stage changes always are). */
const WRITE_INTERVAL_MS = 250;
/**
 * Instances of one deployment share the database: a job is owned through a lease in the settings
 * table (`training-lease:<model id>`), renewed every third of this while the job is queued or
 * running here, released when it ends or the service closes. A QUEUED/TRAINING model whose lease
 * is missing or expired belongs to a process that is gone: `recover()` and a periodic sweep take
 * it over. (Two instances sweeping in the same instant could both take one over: the store has
 * no compare-and-set; the later READY simply wins.)
 */
export const LEASE_MS = 30_000;

interface Lease {
  owner: string;
  until: number;
}
const leaseKey = (modelId: string) => `training-lease:${modelId}`;

interface Job {
  /** Aborts the wait for a slot (a queued job). */
  controller: AbortController;
  /**
   * Shared with the worker thread: set to 1 to stop a running job. The worker checks it at every
   * progress step and ends its task cleanly; terminating the thread instead would kill the
   * process when onnxruntime is inside a run.
   */
  cancelFlag: Int32Array;
  /** Why the job was stopped: the user cancelled, or the service is closing (resumable). */
  stop: 'cancel' | 'close' | null;
  done: Promise<void>;
}

const isAbort = (err: unknown) => err instanceof Error && (err.name === 'AbortError' || /abort/i.test(err.message));

/**
 * Training jobs in worker threads (piscina, `trainingConcurrency` at once; the rest wait in line). Each job: QUEUED -> TRAINING (first progress from the worker) -> READY / FAILED /
 * CANCELLED, with progress written to the model and published on `trainingProgress`.
 */
export async function createTrainingService(deps: TrainingDeps): Promise<TrainingService> {
  const { store, pubsub, log } = deps;
  await store.syncAlgorithms(ALGORITHMS.map((a) => a.definition));

  const concurrency = Math.max(1, deps.config.trainingConcurrency);
  const pool = new Piscina({
    filename: new URL('./worker.ts', import.meta.url).href,
    minThreads: 0,
    maxThreads: concurrency,
    idleTimeout: 5_000,
    concurrentTasksPerWorker: 1,
  });
  // Jobs wait here for one of `concurrency` slots rather than in piscina's queue, so that a
  // queued job is cancelled by just leaving the line (piscina would abort by killing a thread).
  let free = concurrency;
  const line: { job: Job; go: () => void }[] = [];
  const acquire = (job: Job) =>
    new Promise<void>((resolve, reject) => {
      if (job.stop) return reject(new DOMException('stopped', 'AbortError'));
      if (free > 0) {
        free--;
        return resolve();
      }
      const entry = { job, go: resolve };
      line.push(entry);
      job.controller.signal.addEventListener('abort', () => {
        const i = line.indexOf(entry);
        if (i >= 0) {
          line.splice(i, 1);
          reject(new DOMException('stopped', 'AbortError'));
        }
      });
    });
  const release = () => {
    const next = line.shift();
    if (next) next.go();
    else free++;
  };
  const jobs = new Map<string, Job>();
  let closing = false;
  const owner = randomUUID();
  const leaseMs = deps.leaseMs ?? LEASE_MS;

  const readLease = async (id: string): Promise<Lease | null> => {
    const raw = await store.getSetting(leaseKey(id));
    try {
      return raw ? (JSON.parse(raw) as Lease) : null;
    } catch {
      return null;
    }
  };
  const holdLease = (id: string) => store.setSetting(leaseKey(id), JSON.stringify({ owner, until: Date.now() + leaseMs } satisfies Lease));
  const releaseLease = async (id: string) => {
    const lease = await readLease(id);
    if (lease?.owner === owner) await store.setSetting(leaseKey(id), JSON.stringify({ owner, until: 0 } satisfies Lease));
  };

  const stopJob = (job: Job, why: 'cancel' | 'close') => {
    job.stop ??= why;
    Atomics.store(job.cancelFlag, 0, 1);
    job.controller.abort();
  };
  /** Stops a local job because another instance cancelled (or deleted) its model. */
  const stopForeignCancelled = (modelId: string) => {
    const job = jobs.get(modelId);
    if (job && !job.stop) stopJob(job, 'cancel');
  };
  // a cancel made on another instance reaches this one as a CANCELLED progress event
  const events = pubsub.subscribe('trainingProgress');
  void (async () => {
    for await (const ev of events) if (ev.status === ModelStatus.CANCELLED) stopForeignCancelled(ev.modelId);
  })().catch((err) => log.warn({ err }, 'training: cancel events stopped'));

  const publish = (m: ModelRecord, message: string | null = null) =>
    pubsub
      .publish('trainingProgress', m.id, {
        modelId: m.id,
        progress: m.progress,
        stage: m.stage ?? '',
        status: m.status,
        message: message ?? m.statusText,
        at: new Date().toISOString(),
      })
      .catch((err) => log.warn({ err, modelId: m.id }, 'training: progress not published'));

  const update = async (id: string, patch: Parameters<Store['updateModel']>[1], message: string | null = null) => {
    const m = await store.updateModel(id, patch);
    await publish(m, message);
    return m;
  };
  /** The final write of a job; the model may have been deleted meanwhile (then nothing to do). */
  const finish = (id: string, patch: Parameters<Store['updateModel']>[1]) =>
    update(id, patch).catch((err) => {
      if (err instanceof AppError && err.code === ErrorCode.NOT_FOUND) return null;
      throw err;
    });

  async function loadPictures(model: ModelRecord) {
    const items = await store.itemsByIds(model.trainItemIds);
    const byId = new Map(items.map((i) => [i.id, i]));
    const missing = model.trainItemIds.filter((id) => !byId.get(id)?.active);
    if (missing.length) {
      throw new Error(`${missing.length} of the model's ${model.trainItemIds.length} training items no longer exist (e.g. "${missing[0]}"); train a new model`);
    }
    const images = await store.imagesByOwners('item', model.trainItemIds);
    const first = new Map<string, (typeof images)[number]>();
    for (const im of images) {
      const cur = first.get(im.ownerId);
      if (!cur || im.position < cur.position) first.set(im.ownerId, im);
    }
    const ok: Uint8Array[] = [];
    const ng: Uint8Array[] = [];
    for (const id of model.trainItemIds) {
      const im = first.get(id);
      if (!im) throw new Error(`training item "${id}" has no picture`);
      (byId.get(id)!.good === false ? ng : ok).push(await store.blobs.get(im.blob));
    }
    return { ok, ng };
  }

  async function runJob(model: ModelRecord, job: Job): Promise<void> {
    const started = Date.now();
    const metrics = deps.metrics;
    const algorithm = model.algorithmId;
    let outcome: 'ready' | 'failed' | 'cancelled' | 'interrupted' | 'deleted' = 'ready';
    let slotAt = 0;
    const { port1, port2 } = new MessageChannel();
    let lastWrite = 0;
    let lastStage: string | null = null;
    let writing: Promise<unknown> = Promise.resolve();
    let workerSpan: Span | null = null;
    port1.on('message', (msg: ProgressMessage) => {
      if (job.stop) return;
      workerSpan?.addEvent('progress', { 'spectro.stage': msg.stage, 'spectro.progress': msg.progress });
      const now = Date.now();
      const first = lastStage === null;
      if (!first && msg.stage === lastStage && now - lastWrite < WRITE_INTERVAL_MS) return;
      lastWrite = now;
      lastStage = msg.stage;
      const patch = { progress: Math.min(0.99, Math.max(0, msg.progress)), stage: msg.stage, ...(first ? { status: ModelStatus.TRAINING } : {}) };
      // writes stay in order: each waits for the previous one
      writing = writing.then(() => (job.stop ? undefined : update(model.id, patch, msg.message))).catch((err) =>
        log.warn({ err, modelId: model.id }, 'training: progress not stored'),
      );
    });
    let slot = false;
    metrics?.queued.inc();
    try {
      try {
        await inSpan('training.wait', {}, () => acquire(job));
      } finally {
        metrics?.queued.dec();
      }
      slot = true;
      slotAt = Date.now();
      metrics?.running.inc();
      const { ok, ng } = await inSpan('training.load_pictures', {}, () => loadPictures(model));
      const task: WorkerTask = { algorithmId: model.algorithmId, params: model.params, ok, ng, port: port2, cancelFlag: job.cancelFlag };
      if (job.stop) throw new DOMException('stopped', 'AbortError');
      // The worker thread has no tracer: its progress steps become events of this span.
      workerSpan = tracer.startSpan('training.worker', { attributes: { 'thread.name': 'training-worker', 'spectro.pictures': ok.length + ng.length } });
      const result = await (pool.run(task, { transferList: [port2] }) as Promise<WorkerResult>).finally(() => workerSpan?.end());
      await writing;
      // cancelled elsewhere while we ran (an event we may have missed): the store has the last word
      const [current] = await store.modelsByIds([model.id]);
      if (!current || current.status === ModelStatus.CANCELLED) job.stop ??= 'cancel';
      if (job.stop) throw new DOMException('stopped', 'AbortError');
      // Held until the row names them: a concurrent delete of a model with identical bytes (same
      // key) must not unlink them in between; unnamed (model deleted, write failed) they go again.
      const onnxBlob = await store.blobs.put(result.onnx, { hold: true });
      const imageBlob = await store.blobs.put(result.picture, { hold: true });
      const stored = [onnxBlob, imageBlob];
      const seconds = (Date.now() - started) / 1000;
      const predictParameters = {
        threshold: result.threshold,
        ignoreOuter: num(model.params, 'ignore_outer', 0),
        minDetectedArea: num(model.params, 'min_detected_area', 0),
      };
      let written: ModelRecord | null = null;
      try {
        written = await finish(model.id, {
          status: ModelStatus.READY,
          statusText: null,
          progress: 1,
          stage: 'done',
          onnxBlob,
          imageBlob,
          inputSpec: { ...result.inputSpec },
          predictParameters,
          stats: result.stats,
          trainingTime: Math.round(seconds * 1000) / 1000,
          okImageCount: ok.length,
          ngImageCount: ng.length,
        });
      } finally {
        store.blobs.release(stored);
        if (!written) await store.blobs.deleteUnreferenced(stored).catch(() => {});
      }
      if (!written) {
        outcome = 'deleted';
        return; // deleted meanwhile
      }
      log.info({ modelId: model.id, seconds, threshold: result.threshold, details: result.details }, 'training: model ready');
    } catch (err) {
      port1.close();
      await writing;
      if (job.stop === 'close') {
        outcome = 'interrupted';
        await finish(model.id, { status: ModelStatus.QUEUED, stage: 'queued', progress: 0, statusText: 'interrupted by a shutdown; runs again at the next start' });
      } else if (job.stop === 'cancel' || isAbort(err)) {
        outcome = 'cancelled';
        await finish(model.id, { status: ModelStatus.CANCELLED, stage: 'cancelled', statusText: 'cancelled by the user' });
      } else {
        outcome = 'failed';
        const jobSpan = trace.getActiveSpan();
        if (jobSpan) recordError(jobSpan, err);
        const text = err instanceof Error ? err.message : String(err);
        log.warn({ err, modelId: model.id }, 'training: failed');
        await finish(model.id, { status: ModelStatus.FAILED, stage: 'failed', statusText: `training failed: ${text}` });
      }
    } finally {
      if (slot) release();
      if (slot) metrics?.running.dec();
      metrics?.jobs.inc({ algorithm, outcome });
      if (slot) metrics?.duration.observe({ algorithm, outcome }, (Date.now() - slotAt) / 1000);
      port1.close();
      await releaseLease(model.id).catch((err) => log.warn({ err, modelId: model.id }, 'training: lease not released'));
    }
  }

  function enqueue(model: ModelRecord) {
    const job: Job = { controller: new AbortController(), cancelFlag: new Int32Array(new SharedArrayBuffer(4)), stop: null, done: Promise.resolve() };
    jobs.set(model.id, job);
    // A child of the request that queued it (trainModel) or of nothing (recovery at start).
    const attributes = { 'spectro.model.id': model.id, 'spectro.algorithm.id': model.algorithmId };
    job.done = inSpan('training.job', attributes, () => runJob(model, job))
      .catch((err) => log.error({ err, modelId: model.id }, 'training: job bookkeeping failed'))
      .finally(() => jobs.delete(model.id));
  }

  // renew the leases of local jobs; take over jobs whose owner is gone
  const heartbeat = setInterval(() => {
    for (const id of jobs.keys()) holdLease(id).catch((err) => log.warn({ err, modelId: id }, 'training: lease not renewed'));
  }, Math.max(50, Math.floor(leaseMs / 3)));
  heartbeat.unref();
  let sweeper: NodeJS.Timeout | null = null;
  let sweeping: Promise<void> | null = null;

  async function sweep(): Promise<void> {
    const left = await store.modelsWithStatus([ModelStatus.QUEUED, ModelStatus.TRAINING]);
    for (const m of left) {
      if (closing || jobs.has(m.id)) continue;
      const lease = await readLease(m.id);
      if (lease && lease.until > Date.now()) continue;
      if (!algorithmById(m.algorithmId)) {
        // not ours to run (a newer instance's algorithm?) unless it has been left for a while
        if (Date.now() - Date.parse(m.updatedAt) < leaseMs) continue;
        await update(m.id, { status: ModelStatus.FAILED, stage: 'failed', statusText: `training failed: algorithm "${m.algorithmId}" is not available on this server` });
        continue;
      }
      await holdLease(m.id);
      log.info({ modelId: m.id, status: m.status }, 'training: taking over a job whose process is gone');
      const queued = await update(m.id, { status: ModelStatus.QUEUED, stage: 'queued', progress: 0, statusText: 'restarted after an interruption' });
      enqueue(queued);
    }
  }
  const sweepOnce = () =>
    (sweeping ??= sweep()
      .catch((err) => log.warn({ err }, 'training: recovery sweep failed'))
      .finally(() => (sweeping = null)));

  async function trainingItems(targetId: string, itemIds: readonly string[] | null | undefined): Promise<ItemRecord[]> {
    if (itemIds && itemIds.length) {
      const found = await store.itemsByIds(itemIds);
      const byId = new Map(found.map((i) => [i.id, i]));
      const missing = itemIds.find((id) => !byId.has(id));
      if (missing) throw notFound('Item', missing);
      const foreign = found.find((i) => i.targetId !== targetId);
      if (foreign) throw badInput(`item "${foreign.id}" belongs to another target`, { argument: 'itemIds' });
      return [...new Set(itemIds)].map((id) => byId.get(id)!);
    }
    const all: ItemRecord[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await store.listItems({ type: ItemType.TRAINING, targetId }, { first: 100, after });
      all.push(...page.nodes.filter((i) => i.active));
      if (!page.hasNextPage || !page.endCursor) break;
      after = page.endCursor;
    }
    return all.reverse(); // oldest first: upload order
  }

  return {
    algorithms: ALGORITHMS.map((a) => a.definition),

    async train(req: TrainRequest) {
      if (closing) throw new AppError(ErrorCode.UNAVAILABLE, 'the training service is shutting down');
      const algorithm = algorithmById(req.algorithmId);
      if (!algorithm) throw notFound('Algorithm', req.algorithmId);
      const [target] = await store.targetsByIds([req.targetId]);
      if (!target) throw notFound('Target', req.targetId);

      const defs = algorithm.definition.parameters;
      const overrides: Record<string, string> = {};
      if (req.overrideParams?.length) {
        const stored = await store.parametersByAlgorithmIds([algorithm.definition.id]);
        for (const o of req.overrideParams) {
          const name = o.name ?? stored.find((p) => p.id === o.parameterId)?.name;
          const def = defs.find((d) => d.name === name);
          if (!def) {
            throw badInput(`algorithm "${algorithm.definition.name}" has no parameter ${o.name ? `"${o.name}"` : `with id "${o.parameterId}"`}`, {
              argument: 'overrideParams',
            });
          }
          const reason = checkValue(def, o.value);
          if (reason) throw badInput(reason, { argument: 'overrideParams', parameter: def.name });
          overrides[def.name] = o.value;
        }
      }
      const params = effectiveParams(defs, overrides);

      const items = await trainingItems(target.id, req.itemIds);
      const okCount = items.filter((i) => i.good !== false).length;
      const ngCount = items.length - okCount;
      if (okCount < MIN_OK_IMAGES) {
        throw badInput(`at least ${MIN_OK_IMAGES} OK training pictures are needed, the target has ${okCount}`, { argument: 'itemIds' });
      }
      const model = await store.createModel({
        name: req.name?.trim() || `${algorithm.definition.name} ${new Date().toISOString().slice(0, 19).replace('T', ' ')}`,
        version: algorithm.definition.version,
        algorithmId: algorithm.definition.id,
        targetId: target.id,
        status: ModelStatus.QUEUED,
        params,
        predictParameters: {
          threshold: optionalNum(params, 'threshold') ?? 0,
          ignoreOuter: num(params, 'ignore_outer', 0),
          minDetectedArea: num(params, 'min_detected_area', 0),
        },
        trainItemIds: items.map((i) => i.id),
        okImageCount: okCount,
        ngImageCount: ngCount,
      });
      await holdLease(model.id);
      const queued = await update(model.id, { stage: 'queued', progress: 0 });
      enqueue(queued);
      return queued;
    },

    async cancel(modelId: string) {
      const [model] = await store.modelsByIds([modelId]);
      if (!model) throw notFound('Model', modelId);
      const job = jobs.get(modelId);
      if (job) {
        stopJob(job, 'cancel');
        await job.done;
        return (await store.modelsByIds([modelId]))[0]!;
      }
      if (model.status === ModelStatus.QUEUED || model.status === ModelStatus.TRAINING) {
        // running on another instance (it stops on the CANCELLED event, or at the latest before
        // writing READY), or left by a process that is gone
        return update(modelId, { status: ModelStatus.CANCELLED, stage: 'cancelled', statusText: 'cancelled by the user' });
      }
      throw new AppError(ErrorCode.CONFLICT, `model "${modelId}" is ${model.status}; only a queued or training model can be cancelled`, { id: modelId });
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
      clearInterval(heartbeat);
      if (sweeper) clearInterval(sweeper);
      await sweeping;
      await events.return();
      const running = [...jobs.values()];
      for (const job of running) stopJob(job, 'close');
      await Promise.all(running.map((j) => j.done));
      await pool.destroy();
    },
  };
}
