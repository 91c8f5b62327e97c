import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { algorithmById } from '../src/runtime/training/algorithms/index.ts';
import { effectiveParams } from '../src/runtime/training/algorithms/params.ts';
import { expectBoxOnDefect, runBatch, tensorsOf } from './algorithm-helpers.ts';

const SIZE = 64;

describe('local pattern inspection', () => {
  it('has the original parameters and defaults', () => {
    const defs = algorithmById('local-pattern')!.definition.parameters;
    const byName = Object.fromEntries(defs.map((p) => [p.name, p.value]));
    expect(byName).toMatchObject({ min_inspection_size: '32,32', min_inspection_step: '16', ignore_outer: '0', min_detected_area: '0' });
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(['threshold', 'anomaly_range']));
  });

  it("trains an ONNX model with the contract's I/O whose map is one cell per step and which flags and boxes a defect", async () => {
    const algorithm = algorithmById('local-pattern')!;
    // 16 px windows every 8 px: an 8 x 8 map on a 64 px picture
    const params = effectiveParams(algorithm.definition.parameters, { input_size: String(SIZE), min_inspection_size: '16,16', min_inspection_step: '8' });
    const spec = algorithm.inputSpec(params);
    const ok = await tensorsOf('mesh', [1, 2, 3, 4, 5, 6, 7, 8], spec, SIZE);
    const stages: string[] = [];
    const out = await algorithm.train({
      ok: ok.map((o) => o.tensor),
      ng: [],
      spec,
      params,
      signal: new AbortController().signal,
      progress: (_f, stage) => stages.push(stage),
    });
    expect(stages).toContain('exporting');
    expect(out.threshold).toBeGreaterThan(0);
    expect(out.stats.method).toMatch(/cross-validation/);

    const session = await ort.InferenceSession.create(out.onnx);
    expect(session.inputNames).toEqual(['images']);
    expect([...session.outputNames].sort()).toEqual(['anomaly_map', 'score']);
    const [clean] = await tensorsOf('mesh', [101], spec, SIZE);
    const [bad] = await tensorsOf('mesh', [102], spec, SIZE, true);
    const res = await runBatch(session, [clean!.tensor, bad!.tensor], spec);
    const map = res.anomaly_map!;
    expect(map.dims).toEqual([2, 1, 8, 8]);
    const [cleanScore, badScore] = res.score!.data as Float32Array;
    expect(badScore!).toBeGreaterThan(out.threshold);
    expect(cleanScore!).toBeLessThan(out.threshold);

    expectBoxOnDefect(map, badScore!, out.threshold, bad!.img.defects[0]!.box, SIZE);
    await session.release();
  });
});
