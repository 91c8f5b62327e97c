import type { Config } from '../../config.ts';
import { AppError, ErrorCode, notFound } from '../../errors.ts';
import { HEATMAP_NAME, overlaySize, renderHeatmap } from '../images/heatmap.ts';
import { tensorSize } from '../images/tensor.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import type { NewAssessment, Store } from '../store/store.ts';
import type { AssessmentRecord, ImageRecord, ModelRecord } from '../store/types.ts';
import type { InputSpec } from '../onnx/contract.ts';
import type { InferenceMetrics } from '../telemetry/metrics.ts';
import { inSpan, recordError, recordSpan, tracer, tracing } from '../telemetry/tracing.ts';
import { GroupCommit } from './group-commit.ts';
import type { InferenceService } from './inference.ts';
import { CostLru } from './lru.ts';
import { judge } from './postprocess.ts';
import { parseInputSpec } from '../onnx/schemas.ts';
import type { Logger, ModelShape, Provider } from './sessions.ts';
import { ThreadClient } from './thread-client.ts';
import { DEADLINE_MESSAGE, type FromWorker, type ToWorker, type WorkerData, type WorkerOutput } from './worker-protocol.ts';

interface Loaded {
  modelId: string;
  onnxBlob: string;
  spec: InputSpec;
  shape: ModelShape;
  /** Size of model.onnx: the cache's cost of this session. */
  bytes: number;
}

const BATCH_LOG_SIZE = 1000;
const MAP_CACHE_BYTES = 64 * 1024 * 1024;
const PNG_CACHE_BYTES = 64 * 1024 * 1024;

export interface ServiceDeps {
  store: Store;
  pubsub: PubSub;
  config: Config;
  log: Logger;
  provider: Provider;
  /** Per-model timings, batch sizes and results (absent: not recorded). */
  metrics?: InferenceMetrics;
}

/** Failures after which the picture is tried once more (the worker lost the model's session). */
const RELOAD = /is not loaded|was unloaded|thread stopped/;

/** A run past its deadline (or of a model that had one) is the model's fault, told as UNAVAILABLE. */
const deadlineError = (err: unknown) =>
  err instanceof Error && !(err instanceof AppError) && DEADLINE_MESSAGE.test(err.message) ? new AppError(ErrorCode.UNAVAILABLE, err.message) : err;

const outputOf = (m: FromWorker): WorkerOutput => {
  if (m.type !== 'output') throw new Error(`inference worker answered ${m.type}`);
  return m.output;
};

/**
 * The inference runtime. Sessions, decoding and the micro-batcher live in a worker thread
 * (worker.ts); this side keeps the session cache's bookkeeping (LRU by model size), judges the
 * outputs, stores assessments (group commit) and publishes them.
 */
export class OnnxInferenceService implements InferenceService {
  readonly provider: Provider;
  private readonly store: Store;
  private readonly pubsub: PubSub;
  private readonly config: Config;
  private readonly log: Logger;
  private readonly worker: ThreadClient<ToWorker, FromWorker>;
  private readonly sessions: CostLru<string, Promise<Loaded>>;
  private readonly batches: number[] = [];
  /** Anomaly maps of recent assessments: their heatmap renders without running the model again. */
  private readonly maps = new CostLru<string, WorkerOutput>(MAP_CACHE_BYTES);
  private readonly pngs = new CostLru<string, Buffer>(PNG_CACHE_BYTES);
  private readonly rendering = new Map<string, Promise<Buffer>>();
  private readonly writes: GroupCommit<NewAssessment, AssessmentRecord>;
  private readonly metrics: InferenceMetrics | null;
  private closed = false;
  /** Threads given up in a native run that never ends: only a hard exit ends this process (main.ts). */
  stuckThreads = 0;

  constructor(deps: ServiceDeps) {
    this.provider = deps.provider;
    this.store = deps.store;
    this.pubsub = deps.pubsub;
    this.config = deps.config;
    this.log = deps.log;
    this.metrics = deps.metrics ?? null;
    this.worker = new ThreadClient<ToWorker, FromWorker>(new URL('./worker.ts', import.meta.url), { provider: deps.provider, runTimeoutMs: deps.config.security.inferenceRunTimeoutMs } satisfies WorkerData, {
      onEvent: (m) => {
        if (m.type === 'stuck') {
          this.stuckThreads++;
          this.log.error(
            { modelId: m.modelId, deadlineMs: m.deadlineMs },
            'inference: a run passed its deadline; the model is refused and its thread given up (it keeps a CPU busy until the gateway restarts)',
          );
          return;
        }
        if (m.type !== 'batch') return;
        this.batches.push(m.size);
        if (this.batches.length > BATCH_LOG_SIZE) this.batches.splice(0, this.batches.length - BATCH_LOG_SIZE);
        this.metrics?.batchSize.observe({ model: m.modelId }, m.size);
        if (m.runMs !== null) this.metrics?.run.observe({ model: m.modelId }, m.runMs / 1000);
      },
      onExit: (reason) => {
        this.log.error({ reason }, 'inference: worker stopped; sessions will be reloaded');
        this.sessions.clear();
      },
    });
    this.sessions = new CostLru(deps.config.sessionCacheBytes, (id) => {
      this.log.info({ modelId: id }, 'inference: session evicted (memory bound)');
      void this.worker.call({ type: 'unload', modelId: id }).catch(() => {});
    });
    this.writes = new GroupCommit((list) => this.store.addAssessments(list));
  }

  batchSizes(): readonly number[] {
    return this.batches;
  }

  async ping(timeoutMs: number): Promise<boolean> {
    if (this.closed) return false;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const answered = this.worker.call({ type: 'ping' }).then(
      (m) => m.type === 'done',
      () => false,
    );
    try {
      return await Promise.race([answered, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  evict(modelId: string): void {
    if (this.sessions.delete(modelId)) void this.worker.call({ type: 'unload', modelId }).catch(() => {});
  }

  async warmUp(model: ModelRecord): Promise<void> {
    const loaded = await this.load(model);
    const tensor = new Float32Array(tensorSize(loaded.spec));
    await this.worker.call({ type: 'run', modelId: model.id, tensor, record: false }, [tensor.buffer]).catch((err: unknown) => {
      throw deadlineError(err);
    });
  }

  predict(model: ModelRecord, itemIds: readonly string[]): Promise<AssessmentRecord[]> {
    return inSpan('inference.predict', { 'spectro.model.id': model.id, 'spectro.pictures': itemIds.length }, () => this.predictNow(model, itemIds));
  }

  predictEach(model: ModelRecord, itemIds: readonly string[], opts: { jobId: string; onError: (itemId: string, message: string) => void }): Promise<number> {
    return inSpan('inference.predict_each', { 'spectro.model.id': model.id, 'spectro.pictures': itemIds.length }, async () => {
      if (this.closed) throw new AppError(ErrorCode.UNAVAILABLE, 'the inference service is shutting down');
      await this.load(model);
      const firstImage = await this.firstImages(itemIds);
      let stored = 0;
      await mapLimit(itemIds, Math.max(8, this.config.maxBatchSize * 2), async (itemId) => {
        const image = firstImage.get(itemId);
        if (!image) return opts.onError(itemId, 'the item no longer exists or has no picture');
        let judged: { row: NewAssessment; out: WorkerOutput };
        try {
          judged = await this.judgeImage(model, itemId, image);
        } catch (err) {
          return opts.onError(itemId, `the picture could not be judged: ${(err as Error).message}`);
        }
        judged.row.jobId = opts.jobId;
        const [record] = await this.writes.submit([judged.row]).catch((err) => {
          // Deleted meanwhile: that picture is the only one lost. Anything else fails the run.
          if (err instanceof AppError && err.code === ErrorCode.NOT_FOUND) return [null];
          throw err;
        });
        if (!record) return opts.onError(itemId, 'the item was deleted while it was judged');
        this.maps.set(record.id, judged.out, judged.out.map.byteLength + 64);
        stored++;
        await this.publish(model, record);
      });
      return stored;
    });
  }

  async republish(model: ModelRecord, jobId: string): Promise<void> {
    for (const r of await this.store.assessmentsByJob(jobId)) await this.publish(model, r);
  }

  private async firstImages(itemIds: readonly string[]): Promise<Map<string, ImageRecord>> {
    const images = await this.store.imagesByOwners('item', itemIds);
    const firstImage = new Map<string, ImageRecord>();
    for (const img of images) {
      const cur = firstImage.get(img.ownerId);
      if (!cur || img.position < cur.position) firstImage.set(img.ownerId, img);
    }
    return firstImage;
  }

  private publish(model: ModelRecord, r: AssessmentRecord): Promise<void> {
    return this.pubsub
      .publish('predictionResult', model.id, { assessmentId: r.id, itemId: r.itemId, modelId: model.id, targetId: model.targetId, at: new Date().toISOString() })
      .catch((err) => this.log.warn({ err, assessmentId: r.id }, 'inference: could not publish predictionResult'));
  }

  /** One picture through the model, judged, as the row to store. */
  private async judgeImage(model: ModelRecord, itemId: string, image: ImageRecord): Promise<{ row: NewAssessment; out: WorkerOutput }> {
    const out = await this.inferImage(model, image);
    const j = judge(out, model.predictParameters);
    this.metrics?.pictures.inc({ model: model.id, result: j.result });
    const size = overlaySize(out.width, out.height);
    const row: NewAssessment = {
      itemId,
      modelId: model.id,
      result: j.result,
      label: null,
      score: j.score,
      threshold: j.threshold,
      detectedObjects: j.detectedObjects,
      detectionAccuracy: j.detectionAccuracy,
      annotations: j.boxes.map((b) => ({ xMin: b.xMin, xMax: b.xMax, yMin: b.yMin, yMax: b.yMax, label: 1, notes: null, score: b.score })),
      // The overlay is drawn on first request (renderImage): the row points at the original
      // picture, from which (with the model) the overlay can always be drawn again.
      images: [{ name: HEATMAP_NAME, blob: image.blob, width: size.width, height: size.height, fileSize: 0, contentType: 'image/png' }],
    };
    return { row, out };
  }

  private async predictNow(model: ModelRecord, itemIds: readonly string[]): Promise<AssessmentRecord[]> {
    if (this.closed) throw new AppError(ErrorCode.UNAVAILABLE, 'the inference service is shutting down');
    await this.load(model);
    const firstImage = await this.firstImages(itemIds);
    for (const id of itemIds) if (!firstImage.has(id)) throw notFound('Item (with an image)', id);

    const window = Math.max(8, this.config.maxBatchSize * 2);
    const judged = await mapLimit(itemIds, window, (itemId) => this.judgeImage(model, itemId, firstImage.get(itemId)!));
    // One transaction for the call: its assessments are stored whole or not at all.
    const records = await this.writes.submit(judged.map((j) => j.row));
    records.forEach((r, i) => {
      const out = judged[i]!.out;
      this.maps.set(r.id, out, out.map.byteLength + 64);
    });
    await Promise.all(records.map((r) => this.publish(model, r)));
    return records;
  }

  async renderImage(image: ImageRecord): Promise<{ body: Buffer; contentType: string } | null> {
    if (image.ownerKind !== 'assessment' || image.name !== HEATMAP_NAME) return null;
    const key = image.id;
    const cached = this.pngs.get(key);
    if (cached) return { body: cached, contentType: 'image/png' };
    let job = this.rendering.get(key);
    if (!job) {
      job = this.renderHeatmapOf(image).finally(() => this.rendering.delete(key));
      this.rendering.set(key, job);
    }
    const body = await job;
    this.pngs.set(key, body, body.byteLength);
    return { body, contentType: 'image/png' };
  }

  async close(): Promise<void> {
    this.closed = true;
    // With a thread stuck in a model's run the worker never finishes terminating: no long wait.
    await this.worker.close(this.stuckThreads > 0 ? 500 : undefined);
  }

  /** Decodes the stored picture, runs it through the model's batcher (in the worker). */
  private async inferImage(model: ModelRecord, image: Pick<ImageRecord, 'blob' | 'width' | 'height'>): Promise<WorkerOutput> {
    const path = await this.store.blobs.localPath(image.blob);
    const knownSize = { width: image.width, height: image.height };
    const used = this.sessions.peek(model.id);
    try {
      return await this.infer(model.id, path, knownSize);
    } catch (err) {
      // Evicted between load() and this call (or the worker restarted): load again, once.
      if (!RELOAD.test((err as Error).message)) throw err;
      // The worker no longer has the session (its session thread restarted): the cached entry
      // here is stale, and reusing it would fail every later prediction of this model the same way.
      if (used && this.sessions.peek(model.id) === used) this.sessions.delete(model.id);
      await this.load(model);
      return await this.infer(model.id, path, knownSize);
    }
  }

  /**
   * One picture through the worker threads. They time their steps (they have no tracer or
   * registry of their own); the figures become metrics here, and child spans of `inference.infer`
   * when a trace is recording.
   */
  private async infer(modelId: string, path: string, knownSize: { width: number; height: number }): Promise<WorkerOutput> {
    const span = tracing() ? tracer.startSpan('inference.infer', { attributes: { 'spectro.model.id': modelId } }) : null;
    try {
      const m = await this.worker.call({ type: 'infer', modelId, path, knownSize });
      const output = outputOf(m);
      const t = m.type === 'output' ? m.timing : undefined;
      if (t) {
        this.metrics?.decode.observe({ model: modelId }, (t.decodedAt - t.receivedAt) / 1000);
        this.metrics?.queueWait.observe({ model: modelId }, Math.max(0, t.batch.startedAt - t.decodedAt) / 1000);
        if (span) {
          span.setAttribute('spectro.batch.size', t.batch.size);
          recordSpan('inference.decode', t.receivedAt, t.decodedAt, { 'thread.name': 'inference-worker' }, span);
          recordSpan('inference.queue', t.decodedAt, t.batch.startedAt, { 'thread.name': 'inference-worker' }, span);
          recordSpan('inference.run', t.batch.startedAt, t.batch.endedAt, {
            'thread.name': 'session-worker',
            'spectro.batch.size': t.batch.size,
            ...(t.batch.runMs === null ? {} : { 'spectro.session_run_ms': t.batch.runMs }),
          }, span);
        }
      }
      return output;
    } catch (err) {
      if (!RELOAD.test((err as Error).message)) this.metrics?.failures.inc({ model: modelId });
      if (span) recordError(span, err);
      throw deadlineError(err);
    } finally {
      span?.end();
    }
  }

  private async renderHeatmapOf(image: ImageRecord): Promise<Buffer> {
    const [assessment] = await this.store.assessmentsByIds([image.ownerId]);
    if (!assessment) throw notFound('Assessment', image.ownerId);
    const [model] = await this.store.modelsByIds([assessment.modelId]);
    if (!model) throw notFound('Model', assessment.modelId);
    const spec = this.specOf(model);
    let out: Pick<WorkerOutput, 'map' | 'mapWidth' | 'mapHeight'> | undefined = this.maps.get(assessment.id);
    if (!out) {
      // Evicted or from before a restart: the model is deterministic, so run it again.
      await this.load(model);
      out = await this.inferImage(model, image);
    }
    const { png } = await renderHeatmap({
      image: await this.store.blobs.get(image.blob),
      map: out.map,
      mapWidth: out.mapWidth,
      mapHeight: out.mapHeight,
      anomalyRange: spec.anomalyRange,
    });
    return png;
  }

  private specOf(model: ModelRecord): InputSpec {
    const spec = parseInputSpec(model.inputSpec);
    if (!model.onnxBlob || !spec) {
      throw new AppError(ErrorCode.CONFLICT, `model "${model.id}" has no trained ONNX graph to predict with`, { modelId: model.id });
    }
    return spec;
  }

  private load(model: ModelRecord): Promise<Loaded> {
    const spec = this.specOf(model);
    const cached = this.sessions.get(model.id);
    if (cached) {
      return cached.then((l) => {
        if (l.onnxBlob === model.onnxBlob) return l;
        this.evict(model.id);
        return this.load(model);
      });
    }
    const onnxBlob = model.onnxBlob!;
    const loading = (async (): Promise<Loaded> => {
      const started = performance.now();
      const onnxPath = await this.store.blobs.localPath(onnxBlob);
      const bytes = (await this.store.blobs.size(onnxBlob)) ?? 0;
      let shape: ModelShape & { batchCap: number };
      try {
        const m = await this.worker.call({
          type: 'load',
          modelId: model.id,
          onnxPath,
          spec,
          batching: {
            enabled: this.config.batching,
            maxBatchSize: this.config.maxBatchSize,
            maxQueueDelayMs: this.config.maxQueueDelayMs,
            calibrate: this.config.batchCalibration,
          },
        });
        if (m.type !== 'loaded') throw new Error(`inference worker answered ${m.type}`);
        shape = m.shape;
      } catch (err) {
        if ((err as { contract?: boolean }).contract) {
          throw new AppError(ErrorCode.CONFLICT, `model "${model.id}" does not follow the ONNX contract: ${(err as Error).message}`);
        }
        throw deadlineError(err);
      }
      this.log.info(
        { modelId: model.id, provider: this.provider, ms: Math.round(performance.now() - started), bytes, fixedBatch: shape.fixedBatch, batchCap: shape.batchCap },
        'inference: session loaded',
      );
      return { modelId: model.id, onnxBlob, spec, shape, bytes };
    })();
    this.sessions.set(model.id, loading, 0);
    loading.then(
      (l) => {
        // Cost by model file size: the session's weights are about that big.
        if (this.sessions.peek(model.id) === loading) this.sessions.set(model.id, loading, l.bytes);
      },
      () => {
        if (this.sessions.peek(model.id) === loading) this.sessions.delete(model.id);
      },
    );
    return loading;
  }
}

/** Maps with at most `limit` calls in flight; answers in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
