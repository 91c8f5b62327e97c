import * as ort from 'onnxruntime-node';

/**
 * Runs a model built here over single-image tensors (C x H x W each) in batches and returns each
 * requested output split per image. Training uses this both for the fixed feature extractors
 * (so training and prediction see the very same features) and to score held-out images.
 */
export async function runPerImage(
  model: Uint8Array,
  tensors: readonly Float32Array[],
  dims: readonly [number, number, number],
  outputs: readonly string[],
  options: { batch?: number; input?: string; threads?: number } = {},
): Promise<Record<string, Float32Array[]>> {
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: options.threads ?? 2,
    graphOptimizationLevel: 'all',
  });
  try {
    const batch = options.batch ?? 8;
    const size = dims[0] * dims[1] * dims[2];
    const out: Record<string, Float32Array[]> = Object.fromEntries(outputs.map((o) => [o, []]));
    for (let start = 0; start < tensors.length; start += batch) {
      const n = Math.min(batch, tensors.length - start);
      const data = new Float32Array(n * size);
      for (let i = 0; i < n; i++) data.set(tensors[start + i]!, i * size);
      const res = await session.run({ [options.input ?? 'images']: new ort.Tensor('float32', data, [n, ...dims]) }, [...outputs]);
      for (const o of outputs) {
        const t = res[o]!;
        const all = t.data as Float32Array;
        const per = all.length / n;
        for (let i = 0; i < n; i++) out[o]!.push(all.slice(i * per, (i + 1) * per));
        t.dispose();
      }
    }
    return out;
  } finally {
    await session.release();
  }
}

/** Runs a model once on named float32 inputs; returns every output's data. */
export async function runOnce(
  model: Uint8Array,
  inputs: Record<string, { data: Float32Array; dims: readonly number[] }>,
  options: { threads?: number } = {},
): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], intraOpNumThreads: options.threads ?? 2 });
  try {
    const feeds = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, new ort.Tensor('float32', v.data, [...v.dims])]));
    const res = await session.run(feeds);
    return Object.fromEntries(Object.entries(res).map(([k, t]) => [k, t.data as Float32Array]));
  } finally {
    await session.release();
  }
}

/**
 * The height and width of one picture's anomaly map from its length (runPerImage drops the
 * output's dims): maps keep the input's aspect ratio, at a resolution of the model's choosing.
 */
export function mapDims(length: number, input: { width: number; height: number }): { mapWidth: number; mapHeight: number } {
  const mapHeight = Math.round(Math.sqrt((length * input.height) / input.width));
  return { mapHeight, mapWidth: length / mapHeight };
}
