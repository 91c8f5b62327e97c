import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Category } from '../bench/synthetic.ts';
import { ALGORITHMS, algorithmById } from '../src/runtime/training/algorithms/index.ts';
import { ALIGNED_CORRELATION, alignment, auto } from '../src/runtime/training/algorithms/auto.ts';
import { effectiveParams } from '../src/runtime/training/algorithms/params.ts';
import { expectBoxOnDefect, runBatch, tensorsOf } from './algorithm-helpers.ts';

const SIZE = 64;

const cases: [string, Category][] = [
  ['reconstructor', 'carpet'],
  ['pattern-matching', 'plate'],
  ['patch-sample', 'carpet'],
  ['patch-sample', 'chip'],
  ['aligned-patch', 'chip'],
  ['aligned-patch', 'plate'],
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

describe('automatic choice', () => {
  const train = async (category: Category) => {
    const params = effectiveParams(auto.definition.parameters, { input_size: String(SIZE) });
    const spec = auto.inputSpec(params);
    const ok = await tensorsOf(category, [1, 2, 3, 4, 5, 6, 7, 8], spec, SIZE);
    const stages = new Set<string>();
    const out = await auto.train({
      ok: ok.map((o) => o.tensor),
      ng: [],
      spec,
      params,
      signal: new AbortController().signal,
      progress: (_f, s) => stages.add(s),
    });
    return { out, stages, spec, ok };
  };

  it('tells aligned parts from textures by how alike the OK pictures are place by place', async () => {
    for (const [category, aligned] of [
      ['chip', true],
      ['plate', true],
      ['carpet', false],
      ['wood', false],
    ] as const) {
      const spec = auto.inputSpec(effectiveParams(auto.definition.parameters, { input_size: String(SIZE) }));
      const ok = await tensorsOf(category, [1, 2, 3, 4, 5, 6], spec, SIZE);
      const a = alignment(
        ok.map((o) => o.tensor),
        spec,
      );
      expect(a >= ALIGNED_CORRELATION, `${category}: correlation ${a}`).toBe(aligned);
    }
  });

  it('on a texture trains the position-tolerant candidate only, and says so', async () => {
    const { out, stages } = await train('carpet');
    expect(out.chosen!.id).toBe('patch-sample');
    expect([...stages].every((s) => s.startsWith('patch-sample: '))).toBe(true);
    expect(out.chosen!.why).toMatch(/texture/);
    expect(out.stats.method).toMatch(/^automatic choice: Patch Sample Inspection/);
  });

  it('on an aligned part trains both candidates, judges each on pseudo-defects of held-out pictures, keeps the better', async () => {
    const { out, stages, spec } = await train('chip');
    expect([...stages].some((s) => s.startsWith('aligned-patch: '))).toBe(true);
    expect([...stages].some((s) => s.startsWith('patch-sample: '))).toBe(true);
    const cands = (out.details.auto as { candidates: { id: string; separation: number }[] }).candidates;
    expect(cands.map((c) => c.id).sort()).toEqual(['aligned-patch', 'patch-sample']);
    const best = Math.max(...cands.map((c) => c.separation));
    expect(cands.find((c) => c.id === out.chosen!.id)!.separation).toBeGreaterThanOrEqual(best - 0.005);
    expect(out.chosen!.why).toMatch(/look aligned/);
    // the kept model is a working one: a defect scores above the threshold
    const session = await ort.InferenceSession.create(out.onnx);
    const [bad] = await tensorsOf('chip', [102], spec, SIZE, true);
    const [clean] = await tensorsOf('chip', [101], spec, SIZE);
    const res = await runBatch(session, [clean!.tensor, bad!.tensor], spec);
    const [cleanScore, badScore] = res.score!.data as Float32Array;
    expect(badScore!).toBeGreaterThan(out.threshold);
    expect(cleanScore!).toBeLessThan(out.threshold);
    await session.release();
  });
});
