import { MessageChannel } from 'node:worker_threads';
import { context, type Span, trace } from '@opentelemetry/api';
import type { Piscina } from 'piscina';
import { stopReasonOf, type Job } from '../jobs/jobs.ts';
import type { Store } from '../store/store.ts';
import { type ModelRecord, ModelStatus } from '../store/types.ts';
import { inSpan, recordError, tracer } from '../telemetry/tracing.ts';
import { num } from './algorithms/params.ts';
import type { Leases } from './leases.ts';
import { trainingPictures } from './pictures.ts';
import type { Outcome, TrainingTelemetry } from './telemetry.ts';
import type { TrainingLogger } from './training.ts';
import type { ModelUpdates } from './updates.ts';
import type { ProgressMessage, WorkerResult, WorkerTask } from './worker.ts';

/** What the training queue carries: the model to train (its row holds the whole request). */
export interface TrainingJob {
  modelId: string;
}

/** Progress is written to the store at most this often (stage changes always are). */
const WRITE_INTERVAL_MS = 250;

const isAbort = (err: unknown) => err instanceof Error && (err.name === 'AbortError' || /abort/i.test(err.message));
const stopped = () => new DOMException('stopped', 'AbortError');

export interface RunJobDeps {
  store: Store;
  pool: Piscina;
  updates: ModelUpdates;
  /** In-process queues only (null where the queue is shared). */
  leases: Leases | null;
  log: TrainingLogger;
  telemetry: TrainingTelemetry;
}

/**
 * Runs one training job: the model goes QUEUED -> TRAINING (first progress from the worker
 * thread) -> READY / FAILED / CANCELLED, or back to QUEUED when the runner closes (resumable).
 * The job's signal reaches the worker through shared memory: the worker checks it at every
 * progress step and ends its task cleanly (terminating the thread instead would kill the process
 * when onnxruntime is inside a run).
 */
export function trainingProcessor(deps: RunJobDeps): (job: Job<TrainingJob>) => Promise<void> {
  const { store, pool, updates, leases, log, telemetry } = deps;

  return async (job) => {
    const { modelId } = job.data;
    let ran = false;
    let outcome: Outcome = 'failed';
    try {
      const [model] = await store.modelsByIds([modelId]);
      // Deleted or cancelled while it waited: nothing to run.
      if (!model || (model.status !== ModelStatus.QUEUED && model.status !== ModelStatus.TRAINING)) {
        telemetry.dropped(modelId, model ? 'cancelled' : 'deleted');
        return;
      }
      ran = true;
      let current = model;
      if (model.status === ModelStatus.TRAINING) {
        // A run that never ended (its worker died): this one starts over.
        log.info({ modelId, attempt: job.attempt }, 'training: running again a job whose run was cut off');
        current = await updates.update(modelId, { status: ModelStatus.QUEUED, stage: 'queued', progress: 0, statusText: 'restarted after an interruption' });
      }
      log.info({ modelId, attempt: job.attempt }, 'training: job started');
      outcome = await context.with(telemetry.started(modelId, model.algorithmId), () => run(current, job));
    } finally {
      if (ran) telemetry.finished(modelId, outcome);
      await leases?.release(modelId).catch((err) => log.warn({ err, modelId }, 'training: lease not released'));
    }
  };

  async function run(model: ModelRecord, job: Job<TrainingJob>): Promise<Outcome> {
    const started = Date.now();
    const cancelFlag = new Int32Array(new SharedArrayBuffer(4));
    const raise = () => Atomics.store(cancelFlag, 0, 1);
    if (job.signal.aborted) raise();
    else job.signal.addEventListener('abort', raise, { once: true });
    // Cancelled in the store by another instance (an event this one may have missed).
    let cancelledInStore = false;
    const stopReason = () => stopReasonOf(job.signal) ?? (cancelledInStore ? 'cancel' : null);

    const { port1, port2 } = new MessageChannel();
    let lastWrite = 0;
    let lastStage: string | null = null;
    let writing: Promise<unknown> = Promise.resolve();
    let workerSpan: Span | null = null;
    port1.on('message', (msg: ProgressMessage) => {
      if (stopReason()) return;
      workerSpan?.addEvent('progress', { 'spectro.stage': msg.stage, 'spectro.progress': msg.progress });
      const now = Date.now();
      const first = lastStage === null;
      if (!first && msg.stage === lastStage && now - lastWrite < WRITE_INTERVAL_MS) return;
      lastWrite = now;
      lastStage = msg.stage;
      const patch = {
        progress: Math.min(0.99, Math.max(0, msg.progress)),
        stage: msg.stage,
        ...(first ? { status: ModelStatus.TRAINING, statusText: null } : {}),
      };
      void job.progress(patch.progress).catch(() => {});
      // writes stay in order: each waits for the previous one
      writing = writing
        .then(() => (stopReason() ? undefined : updates.update(model.id, patch, msg.message)))
        .catch((err) => log.warn({ err, modelId: model.id }, 'training: progress not stored'));
    });

    try {
      const { ok, ng, shapes } = await inSpan('training.load_pictures', {}, () => trainingPictures(store, model));
      const task: WorkerTask = { algorithmId: model.algorithmId, params: model.params, ok, ng, port: port2, cancelFlag };
      if (stopReason()) throw stopped();
      // The worker thread has no tracer: its progress steps become events of this span.
      workerSpan = tracer.startSpan('training.worker', { attributes: { 'thread.name': 'training-worker', 'spectro.pictures': ok.length + ng.length } });
      const result = await (pool.run(task, { transferList: [port2] }) as Promise<WorkerResult>).finally(() => workerSpan?.end());
      await writing;
      const [current] = await store.modelsByIds([model.id]);
      if (!current || current.status === ModelStatus.CANCELLED) cancelledInStore = true;
      if (stopReason()) throw stopped();
      const shaped = { ...result, inputSpec: { ...result.inputSpec, ...(shapes ? { pictures: shapes } : {}) } };
      return (await storeResult(model, shaped, ok.length, ng.length, (Date.now() - started) / 1000)) ? 'ready' : 'deleted';
    } catch (err) {
      port1.close();
      await writing;
      const why = stopReason();
      if (why === 'close') {
        await updates.finish(model.id, { status: ModelStatus.QUEUED, stage: 'queued', progress: 0, statusText: 'interrupted by a shutdown; it runs again' });
        return 'interrupted';
      }
      if (why === 'cancel' || isAbort(err)) {
        await updates.finish(model.id, { status: ModelStatus.CANCELLED, stage: 'cancelled', statusText: 'cancelled by the user' });
        return 'cancelled';
      }
      const jobSpan = trace.getActiveSpan();
      if (jobSpan) recordError(jobSpan, err);
      const text = err instanceof Error ? err.message : String(err);
      log.warn({ err, modelId: model.id }, 'training: failed');
      await updates.finish(model.id, { status: ModelStatus.FAILED, stage: 'failed', statusText: `training failed: ${text}` });
      return 'failed';
    } finally {
      port1.close();
      job.signal.removeEventListener('abort', raise);
    }
  }

  /** Writes the READY model; false when it was deleted meanwhile (its files went again). */
  async function storeResult(model: ModelRecord, result: WorkerResult, okCount: number, ngCount: number, seconds: number): Promise<boolean> {
    // Held until the row names them: a concurrent delete of a model with identical bytes (same
    // key) must not unlink them in between; unnamed (model deleted, write failed) they go again.
    const onnxBlob = await store.blobs.put(result.onnx, { hold: true });
    const imageBlob = await store.blobs.put(result.picture, { hold: true });
    const held = [onnxBlob, imageBlob];
    let written: ModelRecord | null = null;
    try {
      written = await updates.ready(model.id, {
        status: ModelStatus.READY,
        // the automatic choice says which algorithm it kept and why
        statusText: result.chosen?.why ?? null,
        ...(result.chosen ? { algorithmId: result.chosen.id, version: result.chosen.version } : {}),
        progress: 1,
        stage: 'done',
        onnxBlob,
        imageBlob,
        inputSpec: { ...result.inputSpec },
        predictParameters: {
          threshold: result.threshold,
          ignoreOuter: num(model.params, 'ignore_outer', 0),
          minDetectedArea: num(model.params, 'min_detected_area', 0),
        },
        stats: result.stats,
        trainingTime: Math.round(seconds * 1000) / 1000,
        okImageCount: okCount,
        ngImageCount: ngCount,
      });
    } finally {
      store.blobs.release(held);
      if (!written) await store.blobs.deleteUnreferenced(held).catch(() => {});
    }
    if (written) log.info({ modelId: model.id, seconds, threshold: result.threshold, details: result.details }, 'training: model ready');
    return written !== null;
  }
}
