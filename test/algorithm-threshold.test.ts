import { describe, expect, it } from 'vitest';
import { checkValue, effectiveParams, param } from '../src/runtime/training/algorithms/params.ts';
import { greedyCoreset } from '../src/runtime/training/algorithms/coreset.ts';
import { auroc, chooseThreshold, computeStats } from '../src/runtime/training/threshold.ts';

describe('threshold and stats', () => {
  it('picks the F1-best threshold midway between the classes when NG scores exist', () => {
    const { threshold, rule } = chooseThreshold([1, 1.2, 1.1, 0.9], [3, 2.5, 4]);
    expect(threshold).toBeCloseTo((1.2 + 2.5) / 2, 6);
    expect(rule).toMatch(/F1-best/);
    // overlapping classes: still the best F1 available
    const t2 = chooseThreshold([1, 2, 3], [2.5, 4, 5]).threshold;
    expect(t2).toBeGreaterThan(2);
    expect(t2).toBeLessThan(2.5);
  });

  it('without NG: max(max OK, mean + k std)', () => {
    const ok = [1, 2, 3];
    const { threshold, rule } = chooseThreshold(ok, [], 3);
    expect(threshold).toBeCloseTo(2 + 3 * 1, 6);
    expect(rule).toMatch(/OK-only/);
    expect(chooseThreshold([1, 1, 1, 10], [], 0.1).threshold).toBeCloseTo(10, 4);
  });

  it('without NG: no held-out OK score is judged BAD, not even the highest or equal ones', () => {
    for (const ok of [
      [1, 1, 1, 10],
      [0.5, 0.5, 0.5],
      [0, 0],
    ]) {
      const { threshold } = chooseThreshold(ok, [], 0.1);
      expect(Math.max(...ok)).toBeLessThan(threshold);
      // the float32 score a model would answer for that picture
      expect(Math.fround(Math.max(...ok))).toBeLessThan(threshold);
      expect(computeStats(ok, [], threshold, 'test').accuracy).toBe(1);
    }
  });

  it('computes precision/recall on held-out scores and says how', () => {
    const s = computeStats([1, 2, 3, 6], [5, 7, 8], 4.5, 'test');
    expect(s.recall.computed).toBe(1);
    expect(s.precision.computed).toBe(0.75);
    expect(s.accuracy).toBeCloseTo(6 / 7, 4);
    expect(s.recall.projected).toBeGreaterThan(0.5);
    const okOnly = computeStats([1, 2], [], 3, 'test');
    expect(okOnly.precision.computed).toBeNull();
    expect(okOnly.method).toMatch(/no NG/);
    expect(auroc([1, 2], [3, 2])).toBeCloseTo(0.875, 6);
  });
});

describe('parameters', () => {
  const defs = [
    param('step', 'int', '4', ['1', '64'], 'Step'),
    param('size', 'int2', '8,8', ['2,2', '32,32'], 'Size'),
    param('t', 'float', null, ['0', '10'], 'T'),
  ];
  it('checks types and inclusive ranges, pairs element-wise', () => {
    expect(checkValue(defs[0]!, '64')).toBeNull();
    expect(checkValue(defs[0]!, '65')).toMatch(/at most 64/);
    expect(checkValue(defs[0]!, '2.5')).toMatch(/integer/);
    expect(checkValue(defs[1]!, '(16,16)')).toBeNull();
    expect(checkValue(defs[1]!, '16,64')).toMatch(/at most/);
    expect(checkValue(defs[1]!, '16')).toMatch(/two integers/);
    expect(checkValue(defs[2]!, '-1')).toMatch(/at least/);
    expect(effectiveParams(defs, { t: '0.5' })).toEqual({ step: '4', size: '8,8', t: '0.5' });
  });
});

describe('coreset', () => {
  it('keeps isolated points that a random sample would miss', () => {
    // 1000 points in a tight cluster and 3 far away
    const d = 4;
    const pts = new Float32Array(1003 * d);
    for (let i = 0; i < 1000; i++) for (let k = 0; k < d; k++) pts[i * d + k] = Math.sin(i * 7.1 + k) * 0.01;
    for (let j = 0; j < 3; j++) pts[(1000 + j) * d + j] = 10;
    const chosen = [...greedyCoreset(pts, 1003, d, 5)];
    expect(chosen).toEqual(expect.arrayContaining([1000, 1001, 1002]));
  });
});
