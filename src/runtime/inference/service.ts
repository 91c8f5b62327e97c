import type { Config } from '../../config.ts';
import { AppError, ErrorCode, notFound } from '../../errors.ts';
import { overlaySize, renderHeatmap } from '../images/heatmap.ts';
import { tensorSize } from '../images/tensor.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import type { NewAssessment, Store } from '../store/store.ts';
import type { AssessmentRecord, ImageRecord, ModelRecord } from '../store/types.ts';
import type { InputSpec } from '../onnx/contract.ts';
import type { InferenceMetrics } from '../telemetry/metrics.ts';
import { inSpan, recordError, recordSpan, tracer, tracing } from '../telemetry/tracing.ts';
import { Admission, type AdmissionState, type Release } from './admission.ts';
import { heatmapName, isHeatmapName, itemVerdict, type PictureVerdict } from './item-verdict.ts';
import { GroupCommit } from './group-commit.ts';
import type { InferenceService, ItemScore } from './inference.ts';
import { CostLru } from './lru.ts';
import { Piscina } from 'piscina';
import { judgeMap, type JudgedMap, type JudgeTask } from './judge-task.ts';
import { RegionMasks, type RegionPlan } from './regions.ts';
import { parseInputSpec } from '../onnx/schemas.ts';
import { shapeProblem } from '../images/picture-shape.ts';
import type { Logger, ModelShape, Provider } from './sessions.ts';
import { ThreadClient } from './thread-client.ts';
import { DEADLINE_MESSAGE, UNREACHABLE_MESSAGE, type FromWorker, type ToWorker, type WorkerData, type WorkerOutput } from './worker-protocol.ts';

interface Loaded {
  modelId: string;
  onnxBlob: string;
  spec: InputSpec;
  shape: ModelShape;
  /** Size of model.onnx: the cache's cost of this session. */
  bytes: number;
}

/** An item judged: the assessment row to store and each picture's anomaly map (by heatmap name). */
interface JudgedItem {
  row: NewAssessment;
  maps: { name: string; out: WorkerOutput }[];
}

const BATCH_LOG_SIZE = 1000;
/**
 * Maps of at least this many cells are judged in the post-processing thread (judge-task.ts):
 * a whole-picture map (e.g. 64 x 64) costs well under a millisecond on the main thread, less than
 * the hop; a tiled picture's stitched map (1224 x 1024) costs 85-460 ms there.
 */
export const OFF_THREAD_CELLS = 256 * 256;
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

/**
 * A run past its deadline (or of a model that had one) is the model's fault, and a shared
 * inference process that cannot be reached is down: both told as UNAVAILABLE (try again later).
 */
const deadlineError = (err: unknown) =>
  err instanceof Error && !(err instanceof AppError) && (DEADLINE_MESSAGE.test(err.message) || UNREACHABLE_MESSAGE.test(err.message))
    ? new AppError(ErrorCode.UNAVAILABLE, err.message)
    : err;

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
  /** Per model: pictures admitted into the pipeline (admission.ts). */
  private readonly admissions = new Map<string, Admission>();
  /** Regions of interest, applied to each map before it is judged (see regions.ts). */
  private readonly regions: RegionMasks;
  private closed = false;
  /** Post-processing of large maps, off the main thread (started on first use). */
  private judges: Piscina<JudgeTask, JudgedMap> | null = null;
  /** Threads given up in a native run that never ends: only a hard exit ends this process (main.ts). */
  stuckThreads = 0;

  constructor(deps: ServiceDeps) {
    this.provider = deps.provider;
    this.store = deps.store;
    this.pubsub = deps.pubsub;
    this.config = deps.config;
    this.log = deps.log;
    this.metrics = deps.metrics ?? null;
    this.regions = new RegionMasks(deps.store);
    this.worker = new ThreadClient<ToWorker, FromWorker>(
      new URL('./worker.ts', import.meta.url),
      {
        provider: deps.provider,
        decodeThreads: deps.config.decodeThreads,
        decodeInline: deps.config.decodeInline,
        runTimeoutMs: deps.config.security.inferenceRunTimeoutMs,
        inferenceSocket: deps.config.inferenceSocket,
      } satisfies WorkerData,
      {
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
      },
    );
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
      const { spec } = await this.load(model);
      const pictures = await this.itemImages(itemIds);
      const regions = await this.regions.planFor(model);
      let stored = 0;
      const admission = this.admissionOf(model.id);
      // Each item is stored and published as soon as all its pictures are judged.
      await mapLimit(itemIds, Math.max(8, this.config.maxBatchSize * 2), async (itemId) => {
        const images = pictures.get(itemId);
        if (!images) return opts.onError(itemId, 'the item no longer exists or has no picture');
        let judged: JudgedItem;
        try {
          judged = await this.judgeItem(model, spec, itemId, images, regions, () => admission.acquire('background'));
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
        this.keepMaps(record.id, judged);
        stored++;
        await this.publish(model, record);
      });
      return stored;
    });
  }

  async republish(model: ModelRecord, jobId: string): Promise<void> {
    for (const r of await this.store.assessmentsByJob(jobId)) await this.publish(model, r);
  }

  /** Every picture of each item, in the item's order. */
  private async itemImages(itemIds: readonly string[]): Promise<Map<string, ImageRecord[]>> {
    const images = await this.store.imagesByOwners('item', itemIds);
    const byItem = new Map<string, ImageRecord[]>();
    for (const img of images) {
      const list = byItem.get(img.ownerId);
      if (list) list.push(img);
      else byItem.set(img.ownerId, [img]);
    }
    for (const list of byItem.values()) list.sort((a, b) => a.position - b.position);
    return byItem;
  }

  private publish(model: ModelRecord, r: AssessmentRecord): Promise<void> {
    return this.pubsub
      .publish('predictionResult', model.id, {
        assessmentId: r.id,
        itemId: r.itemId,
        modelId: model.id,
        targetId: model.targetId,
        at: new Date().toISOString(),
      })
      .catch((err) => this.log.warn({ err, assessmentId: r.id }, 'inference: could not publish predictionResult'));
  }

  /** Anomaly maps of a stored assessment's pictures, so their heatmaps draw without a run. */
  private keepMaps(assessmentId: string, judged: JudgedItem): void {
    for (const { name, out } of judged.maps) this.maps.set(`${assessmentId}/${name}`, out, out.map.byteLength + 64);
  }

  /**
   * Every picture of an item through the model (each in the pipeline as soon as it gets its
   * admission slot, so an item's pictures run side by side), judged one by one and together
   * (item-verdict.ts), as the row to store.
   */
  private async judgeItem(
    model: ModelRecord,
    spec: InputSpec,
    itemId: string,
    images: readonly ImageRecord[],
    regions: RegionPlan | null,
    slot: () => Promise<Release>,
  ): Promise<JudgedItem> {
    // a picture far from the training pictures' shape is refused, not stretched into a verdict
    for (const image of images) {
      const problem = shapeProblem(spec.pictures, image);
      if (problem) throw new AppError(ErrorCode.BAD_USER_INPUT, problem, { item: itemId, image: image.name });
    }
    const parts = await Promise.all(
      images.map(async (image, index) => {
        const release = await slot();
        try {
          const inferred = await this.inferImage(model, image);
          const t0 = performance.now();
          const { out, judgement } = await this.judgeMapOf(inferred, regions, model.predictParameters);
          this.metrics?.postprocess.observe({ model: model.id }, (performance.now() - t0) / 1000);
          this.metrics?.pictures.inc({ model: model.id, result: judgement.result });
          return { image, index, out, verdict: { name: image.name, index, judgement } satisfies PictureVerdict };
        } finally {
          release();
        }
      }),
    );
    const v = itemVerdict(parts.map((p) => p.verdict));
    const row: NewAssessment = {
      itemId,
      modelId: model.id,
      result: v.result,
      label: null,
      score: v.score,
      threshold: v.threshold,
      detectedObjects: v.detectedObjects,
      detectionAccuracy: v.detectionAccuracy,
      annotations: v.boxes.map((b) => ({ xMin: b.xMin, xMax: b.xMax, yMin: b.yMin, yMax: b.yMax, label: 1, notes: b.notes, score: b.score })),
      // The overlays are drawn on first request (renderImage): each row points at its original
      // picture, from which (with the model) the overlay can always be drawn again.
      images: parts.map(({ image, index, out }) => {
        const size = overlaySize(out.width, out.height);
        return { name: heatmapName(index), blob: image.blob, width: size.width, height: size.height, fileSize: 0, contentType: 'image/png' };
      }),
    };
    return { row, maps: parts.map(({ index, out }) => ({ name: heatmapName(index), out })) };
  }

  score(model: ModelRecord, itemIds: readonly string[]): Promise<ItemScore[]> {
    return inSpan('inference.score', { 'spectro.model.id': model.id, 'spectro.pictures': itemIds.length }, async () =>
      (await this.judgeAll(model, itemIds)).map((j) => ({ itemId: j.row.itemId, score: j.row.score, threshold: j.row.threshold, result: j.row.result })),
    );
  }

  private async predictNow(model: ModelRecord, itemIds: readonly string[]): Promise<AssessmentRecord[]> {
    const t0 = performance.now();
    const judged = await this.judgeAll(model, itemIds);
    // One transaction for the call: its assessments are stored whole or not at all.
    const records = await this.writes.submit(judged.map((j) => j.row));
    records.forEach((r, i) => this.keepMaps(r.id, judged[i]!));
    const t1 = performance.now();
    await Promise.all(records.map((r) => this.publish(model, r)));
    const t2 = performance.now();
    this.metrics?.stage.observe({ model: model.id, stage: 'publish' }, (t2 - t1) / 1000);
    this.metrics?.stage.observe({ model: model.id, stage: 'predict' }, (t2 - t0) / 1000);
    return records;
  }

  /** Every item judged now (the call fails whole); nothing stored or published. */
  private async judgeAll(model: ModelRecord, itemIds: readonly string[]): Promise<JudgedItem[]> {
    if (this.closed) throw new AppError(ErrorCode.UNAVAILABLE, 'the inference service is shutting down');
    const admission = this.admissionOf(model.id);
    const pictures = await this.itemImages(itemIds);
    for (const id of itemIds) if (!pictures.has(id)) throw notFound('Item (with an image)', id);
    const regions = await this.regions.planFor(model);
    const admitted = admission.admit(itemIds.reduce((n, id) => n + pictures.get(id)!.length, 0));
    let judged: JudgedItem[];
    try {
      const { spec } = await this.load(model);
      const window = Math.max(8, this.config.maxBatchSize * 2);
      // The call fails whole: once one picture fails (or is refused), the rest are not started.
      let failed = false;
      const slot = async () => {
        if (failed) throw new Error('an earlier picture of this call failed');
        return admission.acquire('sync');
      };
      judged = await mapLimit(itemIds, window, (itemId) =>
        this.judgeItem(model, spec, itemId, pictures.get(itemId)!, regions, slot).catch((err) => {
          failed = true;
          throw err;
        }),
      );
    } finally {
      admitted();
    }
    return judged;
  }

  admission(): Record<string, AdmissionState> {
    return Object.fromEntries([...this.admissions].map(([id, a]) => [id, a.state()]));
  }

  private admissionOf(modelId: string): Admission {
    let a = this.admissions.get(modelId);
    if (!a) {
      const { maxBatchSize, decodeThreads, predictQueueDepth, predictQueueDeadlineMs } = this.config;
      const m = this.metrics;
      a = new Admission(
        modelId,
        // Until the model is loaded its batch cap is not known: MAX_BATCH_SIZE stands in.
        { concurrency: pipelineWindow(maxBatchSize, decodeThreads), depth: predictQueueDepth, deadlineMs: predictQueueDeadlineMs },
        {
          onDepth: (n) => m?.admissionDepth.set({ model: modelId }, n),
          onWait: (s) => m?.admissionWait.observe({ model: modelId }, s),
          onReject: (reason) => m?.admissionRejects.inc({ model: modelId, reason }),
        },
      );
      this.admissions.set(modelId, a);
    }
    return a;
  }

  async renderImage(image: ImageRecord): Promise<{ body: Buffer; contentType: string } | null> {
    if (image.ownerKind !== 'assessment' || !isHeatmapName(image.name)) return null;
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

  /** Masks and judges one map: on this thread when small, in the post-processing thread when large. */
  private async judgeMapOf(out: WorkerOutput, regions: RegionPlan | null, params: ModelRecord['predictParameters']): Promise<JudgedMap> {
    const task: JudgeTask = { out, gain: this.regions.gainFor(regions, out.mapWidth, out.mapHeight), params };
    if (out.map.length < OFF_THREAD_CELLS) return judgeMap(task);
    this.judges ??= new Piscina<JudgeTask, JudgedMap>({
      filename: new URL('./judge-task.ts', import.meta.url).href,
      minThreads: 0,
      maxThreads: Math.max(1, this.config.decodeThreads),
      idleTimeout: 60_000,
    });
    // The map moves to the thread and back (transferred, not copied); the cached gain is copied.
    return this.judges.run(task, { transferList: [out.map.buffer as ArrayBuffer] });
  }

  async close(): Promise<void> {
    this.closed = true;
    // With a thread stuck in a model's run the worker never finishes terminating: no long wait.
    await this.worker.close(this.stuckThreads > 0 ? 500 : undefined);
    // After the calls in flight had their pictures back (and judged).
    await this.judges?.destroy();
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
      const sent = performance.now();
      const m = await this.worker.call({ type: 'infer', modelId, path, knownSize });
      this.metrics?.stage.observe({ model: modelId, stage: 'pipeline' }, (performance.now() - sent) / 1000);
      const output = outputOf(m);
      const t = m.type === 'output' ? m.timing : undefined;
      if (t) {
        this.metrics?.decode.observe({ model: modelId }, (t.decodedAt - t.receivedAt) / 1000);
        if (t.decodedOn) this.metrics?.decodes.inc({ model: modelId, thread: t.decodedOn });
        this.metrics?.queueWait.observe({ model: modelId }, Math.max(0, t.batch.startedAt - t.decodedAt) / 1000);
        if (span) {
          span.setAttribute('spectro.batch.size', t.batch.size);
          recordSpan('inference.decode', t.receivedAt, t.decodedAt, { 'thread.name': 'inference-worker' }, span);
          recordSpan('inference.queue', t.decodedAt, t.batch.startedAt, { 'thread.name': 'inference-worker' }, span);
          recordSpan(
            'inference.run',
            t.batch.startedAt,
            t.batch.endedAt,
            {
              'thread.name': 'session-worker',
              'spectro.batch.size': t.batch.size,
              ...(t.batch.runMs === null ? {} : { 'spectro.session_run_ms': t.batch.runMs }),
            },
            span,
          );
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
    let out: Pick<WorkerOutput, 'map' | 'mapWidth' | 'mapHeight'> | undefined = this.maps.get(`${assessment.id}/${image.name}`);
    if (!out) {
      // Evicted or from before a restart: the model is deterministic, so run it again (masked
      // by the regions it has now: they may have changed since the picture was judged).
      await this.load(model);
      out = this.regions.apply(await this.inferImage(model, image), await this.regions.planFor(model), model.predictParameters.threshold);
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
      this.admissionOf(model.id).setConcurrency(pipelineWindow(shape.batchCap, this.config.decodeThreads));
      this.log.info(
        {
          modelId: model.id,
          provider: this.provider,
          ms: Math.round(performance.now() - started),
          bytes,
          fixedBatch: shape.fixedBatch,
          batchCap: shape.batchCap,
        },
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

/**
 * Pictures of one model let into the worker threads at once: enough to fill a batch while the
 * last one runs (2 x the batch cap) and to keep every decode thread busy (2 each); more would only
 * queue there, out of the admission queue's sight (and its deadline's).
 */
export const pipelineWindow = (batchCap: number, decodeThreads: number): number => Math.max(4, 2 * batchCap + 2 * decodeThreads);

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
