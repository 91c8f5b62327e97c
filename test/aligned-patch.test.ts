import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { alignedPatch } from '../src/runtime/training/algorithms/aligned-patch.ts';
import { effectiveParams } from '../src/runtime/training/algorithms/params.ts';
import { rng } from '../src/runtime/training/algorithms/random.ts';
import { runBatch } from './algorithm-helpers.ts';

const SIZE = 64;

/**
 * A part in a fixture: the same rectangles at the same places, moved by (dx, dy) pixels, with a
 * little sensor noise (RGB, 0..1).
 */
function part(dx: number, dy: number, seed: number): Float32Array {
  const plane = SIZE * SIZE;
  const t = new Float32Array(3 * plane);
  const noise = rng(seed);
  const rects = [
    [8, 8, 22, 14, 0.9],
    [30, 6, 36, 30, 0.15],
    [12, 34, 40, 40, 0.8],
    [44, 20, 56, 52, 0.3],
    [18, 46, 26, 58, 0.95],
  ] as const;
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      let v = 0.5;
      for (const [x0, y0, x1, y1, level] of rects) if (x - dx >= x0 && x - dx < x1 && y - dy >= y0 && y - dy < y1) v = level;
      const n = (noise() - 0.5) * 0.04;
      for (let c = 0; c < 3; c++) t[c * plane + y * SIZE + x] = v + n;
    }
  return t;
}

async function train(shift: number, play: number) {
  const params = effectiveParams(alignedPatch.definition.parameters, { input_size: String(SIZE), shift: String(shift) });
  const spec = alignedPatch.inputSpec(params);
  // twelve OK parts, each seated up to `play` pixels from the others (as a fixture holds them)
  const offsets = [-play, 0, play];
  const ok = Array.from({ length: 12 }, (_, i) => part(offsets[i % 3]!, offsets[Math.floor(i / 3) % 3]!, i + 1));
  const out = await alignedPatch.train({ ok, ng: [], spec, params, signal: new AbortController().signal, progress: () => {} });
  const session = await ort.InferenceSession.create(out.onnx);
  const scores = async (...tensors: Float32Array[]) => Array.from((await runBatch(session, tensors, spec)).score!.data as Float32Array);
  return { threshold: out.threshold, scores, release: () => session.release() };
}

describe('aligned patch: the fixture play', () => {
  it('takes a part moved within the play its OK pictures showed as OK, one moved further as BAD; a part held tighter in training is BAD when it moves', async () => {
    // one cell is 4 input pixels: OK parts seated within 4 px of each other (shift 1 looks that far)
    const loose = await train(1, 4);
    const tight = await train(1, 1);
    try {
      const [seated, within, beyond] = await loose.scores(part(0, 0, 101), part(4, 0, 102), part(12, 0, 103));
      expect(seated!).toBeLessThan(loose.threshold);
      expect(within!).toBeLessThan(loose.threshold);
      expect(beyond!).toBeGreaterThan(loose.threshold);
      // every OK part within a pixel of the others: each place learnt how little it changes, and a 4 px move is a misplaced part
      const [seated1, moved1] = await tight.scores(part(0, 0, 101), part(4, 0, 102));
      expect(seated1!).toBeLessThan(tight.threshold);
      expect(moved1!).toBeGreaterThan(tight.threshold);
    } finally {
      await loose.release();
      await tight.release();
    }
  });
});
