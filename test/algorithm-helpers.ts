import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { type Box, type Category, generateImage, toPng } from '../bench/synthetic.ts';
import { channelsOf, decodeToTensor } from '../src/runtime/images/tensor.ts';
import type { InputSpec } from '../src/runtime/onnx/contract.ts';
import { judge } from '../src/runtime/inference/postprocess.ts';

/** Synthetic pictures of `category`, one per seed, decoded the way the model will see them. */
export async function tensorsOf(category: Category, seeds: number[], spec: Parameters<typeof decodeToTensor>[1], size: number, defect = false) {
  return Promise.all(
    seeds.map(async (seed) => {
      const img = generateImage(category, { seed, size, defect: defect ? { kind: 'spot', size: 'large', contrast: 'high' } : null });
      return { img, tensor: (await decodeToTensor(await toPng(img), spec)).data };
    }),
  );
}

/** Pixels shared by a verdict box (max exclusive) and a ground-truth box (max inclusive). */
const overlapArea = (box: Box, truth: Box) =>
  Math.max(0, Math.min(box.xMax, truth.xMax + 1) - Math.max(box.xMin, truth.xMin)) *
  Math.max(0, Math.min(box.yMax, truth.yMax + 1) - Math.max(box.yMin, truth.yMin));

/** Runs the pictures' tensors through `session` as one N x C x H x W batch. */
export async function runBatch(session: ort.InferenceSession, tensors: Float32Array[], spec: InputSpec) {
  const c = channelsOf(spec);
  const plane = c * spec.height * spec.width;
  const batch = new Float32Array(tensors.length * plane);
  tensors.forEach((t, i) => batch.set(t, i * plane));
  return session.run({ images: new ort.Tensor('float32', batch, [tensors.length, c, spec.height, spec.width]) });
}

/** The second picture of the batch, judged at `threshold`, is BAD and its top box lands on the defect. */
export function expectBoxOnDefect(map: ort.Tensor, score: number, threshold: number, truth: Box, size: number) {
  const [h, w] = [map.dims[2]!, map.dims[3]!];
  const verdict = judge(
    { map: (map.data as Float32Array).subarray(h * w), mapWidth: w, mapHeight: h, score, width: size, height: size },
    { threshold, ignoreOuter: 0, minDetectedArea: 0 },
  );
  expect(verdict.result).toBe('BAD');
  expect(overlapArea(verdict.boxes[0]!, truth)).toBeGreaterThan(0);
}
