import ort from 'onnxruntime-node';
import type { Config } from '../../config.ts';
import { AppError, ErrorCode, notFound } from '../../errors.ts';
import { decodeToTensor, tensorSize } from '../images/tensor.ts';
import { HEATMAP_NAME, overlaySize, renderHeatmap } from '../images/heatmap.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import type { NewAssessment, Store } from '../store/store.ts';
import type { AssessmentRecord, ImageRecord, ModelRecord } from '../store/types.ts';
import { MicroBatcher } from './batcher.ts';
import { OnnxIO, type InputSpec } from './contract.ts';
import { GroupCommit } from './group-commit.ts';
import type { InferenceService } from './inference.ts';
import { CostLru } from './lru.ts';
import { judge } from './postprocess.ts';
import { parseInputSpec } from './schemas.ts';
import { checkContract, createSession, type Logger, type ModelShape, type Provider } from './sessions.ts';

/** One image's share of a model's output. */
export interface ModelOutput {
  map: Float32Array;
  mapWidth: number;
  mapHeight: number;
  score: number;
}

interface Loaded {
  modelId: string;
  onnxBlob: string;
  spec: InputSpec;
  session: ort.InferenceSession;
  shape: ModelShape;
  /** Size of model.onnx: the cache's cost of this session. */
  bytes: number;
  batcher: MicroBatcher<Float32Array, ModelOutput>;
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
}

export class OnnxInferenceService implements InferenceService {
  readonly provider: Provider;
  private readonly store: Store;
  private readonly pubsub: PubSub;
  private readonly config: Config;
  private readonly log: Logger;
  private readonly sessions: CostLru<string, Promise<Loaded>>;
  private readonly batches: number[] = [];
  /** Anomaly maps of recent assessments: their heatmap renders without running the model again. */
  private readonly maps = new CostLru<string, ModelOutput>(MAP_CACHE_BYTES);
  private readonly pngs = new CostLru<string, Buffer>(PNG_CACHE_BYTES);
  private readonly rendering = new Map<string, Promise<Buffer>>();
  private readonly writes: GroupCommit<NewAssessment, AssessmentRecord>;
  private closed = false;

  constructor(deps: ServiceDeps) {
    this.provider = deps.provider;
    this.store = deps.store;
    this.pubsub = deps.pubsub;
    this.config = deps.config;
    this.log = deps.log;
    this.sessions = new CostLru(deps.config.sessionCacheBytes, (id, loaded) => {
      this.log.info({ modelId: id }, 'inference: session evicted (memory bound)');
      void loaded.then((l) => this.unload(l), () => {});
    });
    this.writes = new GroupCommit((list) => this.store.addAssessments(list));
  }

  batchSizes(): readonly number[] {
    return this.batches;
  }

  evict(modelId: string): void {
    const loaded = this.sessions.delete(modelId);
    if (loaded) void loaded.then((l) => this.unload(l), () => {});
  }

  async warmUp(model: ModelRecord): Promise<void> {
    const loaded = await this.load(model);
    const size = tensorSize(loaded.spec);
    await this.runBatch(loaded, [new Float32Array(size)], false);
  }

  /** Runs the model on one preprocessed image (through the batcher). */
  async infer(model: ModelRecord, tensor: Float32Array): Promise<ModelOutput> {
    const loaded = await this.load(model);
    return loaded.batcher.submit(tensor);
  }

  async predict(model: ModelRecord, itemIds: readonly string[]): Promise<AssessmentRecord[]> {
    if (this.closed) throw new AppError(ErrorCode.UNAVAILABLE, 'the inference service is shutting down');
    const loaded = await this.load(model);
    const images = await this.store.imagesByOwners('item', itemIds);
    const firstImage = new Map<string, ImageRecord>();
    for (const img of images) {
      const cur = firstImage.get(img.ownerId);
      if (!cur || img.position < cur.position) firstImage.set(img.ownerId, img);
    }
    for (const id of itemIds) if (!firstImage.has(id)) throw notFound('Item (with an image)', id);

    const params = model.predictParameters;
    const window = Math.max(8, this.config.maxBatchSize * 2);
    const judged = await mapLimit(itemIds, window, async (itemId) => {
      const image = firstImage.get(itemId)!;
      const bytes = await this.store.blobs.get(image.blob);
      const decoded = await decodeToTensor(bytes, loaded.spec);
      const out = await loaded.batcher.submit(decoded.data);
      const j = judge({ ...out, width: decoded.width, height: decoded.height }, params);
      const size = overlaySize(decoded.width, decoded.height);
      const row: NewAssessment = {
        itemId,
        modelId: model.id,
        result: j.result,
        label: null,
        score: j.score,
        threshold: j.threshold,
        detectedObjects: j.detectedObjects,
        detectionAccuracy: j.detectionAccuracy,
        annotations: j.boxes.map((b) => ({
          xMin: b.xMin,
          xMax: b.xMax,
          yMin: b.yMin,
          yMax: b.yMax,
          label: 1,
          notes: null,
          score: b.score,
        })),
        // The overlay is rendered on first request (renderImage): the record points at the
        // original picture, from which (with the model) the overlay can always be redrawn.
        images: [
          {
            name: HEATMAP_NAME,
            blob: image.blob,
            width: size.width,
            height: size.height,
            fileSize: 0,
            contentType: 'image/png',
          },
        ],
      };
      return { row, out };
    });

    const records = await this.writes.submit(judged.map((j) => j.row));
    const at = new Date().toISOString();
    records.forEach((r, i) => {
      const out = judged[i]!.out;
      this.maps.set(r.id, out, out.map.byteLength + 64);
    });
    await Promise.all(
      records.map((r) =>
        this.pubsub
          .publish('predictionResult', model.id, {
            assessmentId: r.id,
            itemId: r.itemId,
            modelId: model.id,
            targetId: model.targetId,
            at,
          })
          .catch((err) => this.log.warn({ err, assessmentId: r.id }, 'inference: could not publish predictionResult')),
      ),
    );
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
    const all = this.sessions.values();
    for (const l of all) void l.then((x) => x.batcher.close(), () => {});
    await Promise.allSettled(all.map((p) => p.then((l) => this.unload(l))));
  }

  private async renderHeatmapOf(image: ImageRecord): Promise<Buffer> {
    const [assessment] = await this.store.assessmentsByIds([image.ownerId]);
    if (!assessment) throw notFound('Assessment', image.ownerId);
    const [model] = await this.store.modelsByIds([assessment.modelId]);
    if (!model) throw notFound('Model', assessment.modelId);
    const spec = this.specOf(model);
    const original = await this.store.blobs.get(image.blob);
    let out = this.maps.get(assessment.id);
    if (!out) {
      // Evicted or from before a restart: the model is deterministic, so run it again.
      const decoded = await decodeToTensor(original, spec);
      out = await this.infer(model, decoded.data);
    }
    const { png } = await renderHeatmap({
      image: original,
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
      throw new AppError(ErrorCode.CONFLICT, `model "${model.id}" has no trained ONNX graph to predict with`, {
        modelId: model.id,
      });
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
      const bytes = await this.store.blobs.get(onnxBlob);
      const session = await createSession(bytes, this.provider);
      let shape: ModelShape;
      try {
        shape = checkContract(session, spec);
      } catch (err) {
        await session.release();
        throw new AppError(ErrorCode.CONFLICT, `model "${model.id}" does not follow the ONNX contract: ${(err as Error).message}`);
      }
      const loaded: Loaded = { modelId: model.id, onnxBlob, spec, session, shape, bytes: bytes.byteLength, batcher: undefined! };
      const maxBatch = shape.fixedBatch ?? this.config.maxBatchSize;
      loaded.batcher = new MicroBatcher<Float32Array, ModelOutput>(
        (inputs) => this.runBatch(loaded, inputs, true),
        {
          maxBatchSize: Math.max(1, maxBatch),
          maxQueueDelayMs: this.config.maxQueueDelayMs,
          maxInflight: 1,
          enabled: this.config.batching && shape.fixedBatch === null,
        },
      );
      this.log.info(
        { modelId: model.id, provider: this.provider, ms: Math.round(performance.now() - started), bytes: bytes.byteLength },
        'inference: session loaded',
      );
      return loaded;
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

  private async runBatch(loaded: Loaded, inputs: Float32Array[], record: boolean): Promise<ModelOutput[]> {
    const { spec } = loaded;
    const per = tensorSize(spec);
    const n = inputs.length;
    let data: Float32Array;
    if (n === 1) data = inputs[0]!;
    else {
      data = new Float32Array(n * per);
      inputs.forEach((x, i) => data.set(x, i * per));
    }
    const c = spec.color === 'rgb' ? 3 : 1;
    const feeds = { [OnnxIO.input]: new ort.Tensor('float32', data, [n, c, spec.height, spec.width]) };
    if (record) {
      this.batches.push(n);
      if (this.batches.length > BATCH_LOG_SIZE) this.batches.splice(0, this.batches.length - BATCH_LOG_SIZE);
    }
    const result = await loaded.session.run(feeds);
    const map = result[OnnxIO.anomalyMap]!;
    const score = result[OnnxIO.score]!;
    const dims = map.dims;
    const h = Number(dims[2]);
    const w = Number(dims[3]);
    const maps = map.data as Float32Array;
    const scores = score.data as Float32Array;
    if (Number(dims[0]) !== n || scores.length !== n) {
      throw new Error(`model answered ${dims[0]} maps and ${scores.length} scores for a batch of ${n}`);
    }
    const plane = h * w;
    const outs = inputs.map((_, i) => ({
      map: maps.slice(i * plane * Number(dims[1]), i * plane * Number(dims[1]) + plane),
      mapWidth: w,
      mapHeight: h,
      score: scores[i]!,
    }));
    map.dispose?.();
    score.dispose?.();
    return outs;
  }

  private async unload(l: Loaded): Promise<void> {
    l.batcher.close();
    // Runs in flight hold the session; let them finish before releasing it.
    while (l.batcher.busy) await new Promise((r) => setTimeout(r, 10));
    await l.session.release().catch(() => {});
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
