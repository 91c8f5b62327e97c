import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Category } from '../bench/synthetic.ts';
import { ALGORITHMS, algorithmById } from '../src/runtime/training/algorithms/index.ts';
import { effectiveParams } from '../src/runtime/training/algorithms/params.ts';
import { expectBoxOnDefect, runBatch, tensorsOf } from './algorithm-helpers.ts';

const SIZE = 64;

const cases: [string, Category][] = [
  ['reconstructor', 'carpet'],
  ['pattern-matching', 'plate'],
  ['patch-sample', 'carpet'],
  ['patch-sample', 'chip'],
];

describe('algorithms', () => {
  it('each has a complete definition with the original parameter names', () => {
    expect(ALGORITHMS.length).toBeGreaterThanOrEqual(3);
    for (const a of ALGORITHMS) {
      const names = a.definition.parameters.map((p) => p.name);
      expect(names).toEqual(expect.arrayContaining(['threshold', 'ignore_outer', 'min_detected_area']));
      expect(new Set(names).size).toBe(names.length);
      for (const p of a.definition.parameters) expect(p.dataType).toMatch(/^(int|float|bool|string|int2|float2)$/);
    }
    expect(algorithmById('reconstructor')!.definition.parameters.map((p) => p.name)).toEqual(
      expect.arrayContaining(['train_size', 'min_inspection_size', 'min_inspection_step', 'n_components', 'max_iter', 'reconstruct_thresh', 'anomaly_range']),
    );
    expect(algorithmById('patch-sample')!.definition.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['model_type', 'num_features']));
  });

  for (const [id, category] of cases) {
    it(`${id} on ${category}: an ONNX model with the contract's I/O that flags a defect and boxes it`, async () => {
      const algorithm = algorithmById(id)!;
      const params = effectiveParams(algorithm.definition.parameters, { input_size: String(SIZE) });
      const spec = algorithm.inputSpec(params);
      const ok = await tensorsOf(category, [1, 2, 3, 4, 5, 6, 7, 8], spec, SIZE);
      const stages: string[] = [];
      let last = 0;
      const out = await algorithm.train({
        ok: ok.map((o) => o.tensor),
        ng: [],
        spec,
        params,
        signal: new AbortController().signal,
        progress: (f, stage) => {
          expect(f).toBeGreaterThanOrEqual(last);
          last = f;
          stages.push(stage);
        },
      });
      expect(stages).toContain('exporting');
      expect(out.threshold).toBeGreaterThan(0);
      expect(out.inputSpec.anomalyRange[1]).toBeGreaterThan(out.inputSpec.anomalyRange[0]);
      expect(out.stats.method).toMatch(/cross-validation/);

      const session = await ort.InferenceSession.create(out.onnx);
      expect(session.inputNames).toEqual(['images']);
      expect([...session.outputNames].sort()).toEqual(['anomaly_map', 'score']);
      const [clean] = await tensorsOf(category, [101], spec, SIZE);
      const [bad] = await tensorsOf(category, [102], spec, SIZE, true);
      const res = await runBatch(session, [clean!.tensor, bad!.tensor], spec);
      const map = res.anomaly_map!;
      expect(map.dims.length).toBe(4);
      expect(map.dims[0]).toBe(2);
      expect(map.dims[1]).toBe(1);
      expect(res.score!.dims).toEqual([2]);
      const [cleanScore, badScore] = res.score!.data as Float32Array;
      expect(badScore!).toBeGreaterThan(cleanScore!);
      expect(badScore!).toBeGreaterThan(out.threshold);
      expect(cleanScore!).toBeLessThan(out.threshold);

      // the box lands on the defect
      expectBoxOnDefect(map, badScore!, out.threshold, bad!.img.defects[0]!.box, SIZE);
      await session.release();
    });
  }
});
