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

async function train(shift: number) {
  const params = effectiveParams(alignedPatch.definition.parameters, { input_size: String(SIZE), shift: String(shift) });
  const spec = alignedPatch.inputSpec(params);
  // ten OK parts, each seated within a pixel of the others
  const ok = Array.from({ length: 10 }, (_, i) => part((i % 3) - 1, (Math.floor(i / 3) % 3) - 1, i + 1));
  const out = await alignedPatch.train({ ok, ng: [], spec, params, signal: new AbortController().signal, progress: () => {} });
  const session = await ort.InferenceSession.create(out.onnx);
  const scores = async (...tensors: Float32Array[]) => Array.from((await runBatch(session, tensors, spec)).score!.data as Float32Array);
  return { threshold: out.threshold, scores, release: () => session.release() };
}

describe('aligned patch: the fixture play', () => {
  it("takes a part moved within the fixture's play (`shift` cells) as OK, and one moved further, or moved at all with no play, as BAD", async () => {
    const play1 = await train(1);
    const play0 = await train(0);
    try {
      // one cell is 4 input pixels: a 4 px move is inside a play of 1 cell, 12 px are outside
      const [seated, within, beyond] = await play1.scores(part(0, 0, 101), part(4, 0, 102), part(12, 0, 103));
      expect(seated!).toBeLessThan(play1.threshold);
      expect(within!).toBeLessThan(play1.threshold);
      expect(beyond!).toBeGreaterThan(play1.threshold);
      // with no play, the same 4 px move is a misplaced part
      const [seated0, within0] = await play0.scores(part(0, 0, 101), part(4, 0, 102));
      expect(seated0!).toBeLessThan(play0.threshold);
      expect(within0!).toBeGreaterThan(play0.threshold);
    } finally {
      await play1.release();
      await play0.release();
    }
  });
});
