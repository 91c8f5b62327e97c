import { describe, expect, it } from 'vitest';
import { sensitivityAt } from '../src/model-stats.ts';
import { ColorMode } from '../src/runtime/onnx/contract.ts';
import { patchSample } from '../src/runtime/training/algorithms/patch-sample.ts';
import { rng } from '../src/runtime/training/algorithms/random.ts';
import { SensitivityProbes } from '../src/runtime/training/sensitivity.ts';
import { greyStats, paintProbe, SENSITIVITY_GRID } from '../src/runtime/training/synthetic-defects.ts';
import { tensorsOf } from './algorithm-helpers.ts';

const grey = (t: Float32Array, plane: number) => Array.from({ length: plane }, (_, i) => (t[i]! + t[plane + i]! + t[2 * plane + i]!) / 3);

describe('the sensitivity grid (what a trained model catches)', () => {
  it('spreads about two probes per held-out picture evenly over the grid, four to a picture, whatever the folds', () => {
    const dims = { channels: 3, height: 32, width: 32 };
    const pictures = Array.from({ length: 30 }, (_, i) => new Float32Array(3 * 32 * 32).fill(0.3 + i / 100));
    const probes = new SensitivityProbes(pictures.length);
    const counts = new Array<number>(SENSITIVITY_GRID.length).fill(0);
    // folds of 4, 7, 3 and 16 pictures: the budget follows the pictures, not the folds
    for (const [f, [from, to]] of [
      [0, 4],
      [4, 11],
      [11, 14],
      [14, 30],
    ].entries()) {
      const { probes: painted, tensors } = probes.forFold(pictures.slice(from, to), dims, f);
      expect(tensors).toHaveLength(painted.length);
      for (const list of painted) {
        expect(list.length).toBeLessThanOrEqual(4);
        // one per quarter: no two probes overlap
        for (const [i, a] of list.entries())
          for (const b of list.slice(i + 1)) expect(a.box.x1 <= b.box.x0 || b.box.x1 <= a.box.x0 || a.box.y1 <= b.box.y0 || b.box.y1 <= a.box.y0).toBe(true);
        for (const p of list) counts[p.cell]!++;
      }
      probes.record(
        painted,
        tensors.map(() => new Float32Array(8 * 8).fill(1)),
        dims,
      );
    }
    expect(counts).toEqual(new Array(SENSITIVITY_GRID.length).fill(5));
    expect(probes.result().map((c) => c.scores.length)).toEqual(counts);
    // a small training still gets four probes per cell, in a quarter as many pictures
    const few = new SensitivityProbes(5);
    const { probes: some, tensors } = few.forFold(pictures.slice(0, 5), dims, 0);
    expect(some.flat()).toHaveLength(4 * SENSITIVITY_GRID.length);
    expect(tensors).toHaveLength(SENSITIVITY_GRID.length);
  });

  it('paints a probe at its contrast, where it says: a 4σ spot moves the grey level by four standard deviations', () => {
    const size = 64;
    const plane = size * size;
    const dims = { channels: 3, height: size, width: size };
    const r = rng(3);
    // a noisy grey picture, σ about 0.05
    const base = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) base[i] = base[plane + i] = base[2 * plane + i] = 0.45 + (r() - 0.5) * 0.17;
    const g0 = grey(base, plane);
    const { std } = greyStats(base, dims);
    const spot = SENSITIVITY_GRID.find((c) => c.kind === 'spot' && c.size === 3 && c.contrast === 4)!;
    const t = base.slice();
    const quarter = { x0: 32, y0: 0, x1: 64, y1: 32 };
    const box = paintProbe(t, dims, spot, quarter, greyStats(base, dims), rng(5));
    const changed = grey(t, plane).map((v, i) => v - g0[i]!);
    const moved = changed.flatMap((d, i) => (Math.abs(d) > 3.9 * std ? [i] : []));
    // the spot's fully painted core (inside its soft edge) is most of its 3 % of the picture
    expect(moved.length).toBeGreaterThan(0.015 * plane);
    expect(moved.length).toBeLessThan(0.035 * plane);
    expect(Math.max(...moved.map((i) => Math.abs(changed[i]!)))).toBeCloseTo(4 * std, 2);
    // all of it inside the returned box, and the box inside its quarter
    for (const i of changed.flatMap((d, i) => (d !== 0 ? [i] : []))) {
      const [x, y] = [i % size, Math.floor(i / size)];
      expect(x >= box.x0 && x < box.x1 && y >= box.y0 && y < box.y1).toBe(true);
    }
    expect(box.x0 >= quarter.x0 && box.x1 <= quarter.x1 && box.y0 >= quarter.y0 && box.y1 <= quarter.y1).toBe(true);
  });

  it('a texture model catches strong probes more often than faint ones, and the reading follows the threshold', async () => {
    const spec = { width: 64, height: 64, color: ColorMode.RGB, resize: 'fill' as const, anomalyRange: [0, 1] as [number, number] };
    const ok = (await tensorsOf('carpet', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], spec, 96)).map((p) => p.tensor);
    const out = await patchSample.train({
      ok,
      ng: [],
      spec,
      params: { model_type: '0', num_features: '150', input_size: '64' },
      progress: () => {},
      signal: new AbortController().signal,
    });
    const cells = out.stats.sensitivity!;
    expect(cells).toHaveLength(SENSITIVITY_GRID.length);
    const at = sensitivityAt(cells, out.threshold);
    const caught = (contrast: number) => at.filter((r) => r.contrast === contrast).reduce((n, r) => n + r.caught, 0);
    expect(caught(4)).toBeGreaterThan(caught(1));
    // raising the threshold never catches more
    const higher = sensitivityAt(cells, out.threshold * 1.5);
    higher.forEach((r, i) => expect(r.caught).toBeLessThanOrEqual(at[i]!.caught));
  });
});
