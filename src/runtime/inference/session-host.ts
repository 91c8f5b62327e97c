import ort from 'onnxruntime-node';
import { OnnxIO, type InputSpec } from '../onnx/contract.ts';
import { checkContract, createSession, type ModelShape, type Provider } from '../onnx/session.ts';

/** One run's answer: maps N x h x w (channel 0 of each map), scores N. */
export interface RunOutput {
  maps: Float32Array;
  scores: Float32Array;
  mapWidth: number;
  mapHeight: number;
  runMs: number;
}

/**
 * The onnxruntime sessions of one thread or process, by model id: loaded once, run, released.
 * The session worker (a thread per gateway) and the shared inference process (INFERENCE_SOCKET)
 * both run their models through one of these. Callers run one thing at a time per host.
 */
export class SessionHost {
  private readonly sessions = new Map<string, { session: ort.InferenceSession; spec: InputSpec; highWater: number }>();
  private readonly provider: Provider;

  constructor(provider: Provider) {
    this.provider = provider;
  }

  get size(): number {
    return this.sessions.size;
  }

  has(modelId: string): boolean {
    return this.sessions.has(modelId);
  }

  /** The model's shape; its session is created on the first load. A broken contract: `contract` set on the error. */
  async load(modelId: string, onnxPath: string, spec: InputSpec): Promise<ModelShape> {
    const existing = this.sessions.get(modelId);
    if (existing) return checkContract(existing.session, spec);
    const session = await createSession(onnxPath, this.provider);
    try {
      const shape = checkContract(session, spec);
      this.sessions.set(modelId, { session, spec, highWater: 1 });
      return shape;
    } catch (err) {
      await session.release();
      throw Object.assign(err as Error, { contract: true });
    }
  }

  async unload(modelId: string): Promise<void> {
    const s = this.sessions.get(modelId);
    this.sessions.delete(modelId);
    await s?.session.release().catch(() => {});
  }

  /** One session.run of `n` tensors (N x C x H x W in `data`). */
  async run(modelId: string, data: Float32Array, n: number): Promise<RunOutput> {
    const s = this.sessions.get(modelId);
    if (!s) throw new Error(`model "${modelId}" is not loaded in the session host`);
    const { spec } = s;
    const c = spec.color === 'rgb' ? 3 : 1;
    // On CUDA a run whose input shape differs from the previous run's costs ~100 ms (measured on
    // an H200: batches alternating 2/8 took 125 ms each, repeated 16s took 2 ms), while a batch of
    // 16 costs the GPU no more than a batch of 1. So batches are padded to the largest size this
    // model has run (calibration ends on the cap), keeping one shape. On CPU padding would only
    // burn cycles on zeros.
    const runN = this.provider === 'cuda' ? Math.max(n, s.highWater) : n;
    s.highWater = runN;
    let input = data;
    if (runN !== n) {
      input = new Float32Array(runN * (data.length / n));
      input.set(data);
    }
    const t0 = performance.now();
    const result = await s.session.run({
      [OnnxIO.input]: new ort.Tensor('float32', input, [runN, c, spec.height, spec.width]),
    });
    const map = result[OnnxIO.anomalyMap]!;
    const score = result[OnnxIO.score]!;
    const [bn, mc, h, w] = map.dims.map(Number) as [number, number, number, number];
    const all = map.data as Float32Array;
    const scores = Float32Array.from((score.data as Float32Array).subarray(0, n));
    if (bn !== runN || (score.data as Float32Array).length !== runN) {
      throw new Error(`model answered ${bn} maps and ${(score.data as Float32Array).length} scores for a batch of ${runN}`);
    }
    const plane = h * w;
    const maps = new Float32Array(n * plane);
    for (let i = 0; i < n; i++) maps.set(all.subarray(i * mc * plane, i * mc * plane + plane), i * plane);
    return { maps, scores, mapWidth: w, mapHeight: h, runMs: performance.now() - t0 };
  }

  async close(): Promise<void> {
    for (const id of [...this.sessions.keys()]) await this.unload(id);
  }
}
