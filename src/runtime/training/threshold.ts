import type { ModelStats } from '../store/types.ts';

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const std = (xs: readonly number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
};

export interface ThresholdChoice {
  threshold: number;
  rule: string;
}

/**
 * Without NG images: the OK-only rule
 *   threshold = max( max(OK) + a hair (relative 1e-6), mean(OK) + k * std(OK) )
 * over held-out OK scores (k = 3 unless the algorithm says otherwise): above every OK picture
 * seen, and a few standard deviations above the typical one.
 * With NG images: the threshold with the best F1 (NG = positive, BAD when score >= threshold),
 * placed midway between the neighbouring scores; among equal F1s the widest gap wins.
 */
export function chooseThreshold(ok: readonly number[], ng: readonly number[], k = 3): ThresholdChoice {
  if (ok.length === 0) throw new Error('no held-out OK scores');
  if (ng.length === 0) {
    const top = Math.max(...ok);
    // BAD is score >= threshold: a threshold equal to the highest OK score would judge that very
    // picture (or every one, when all OK scores are equal) BAD. So it lies just above it.
    const t = Math.max(top + Math.max(Math.abs(top) * 1e-6, 1e-9), mean(ok) + k * std(ok));
    return { threshold: t, rule: `OK-only: max(just above max OK, mean + ${k} std) of ${ok.length} held-out OK scores` };
  }
  const all = [...ok.map((s) => ({ s, ng: false })), ...ng.map((s) => ({ s, ng: true }))].sort((a, b) => a.s - b.s);
  let best = { f1: -1, gap: -1, t: 0 };
  // candidate i: threshold between all[i-1] and all[i] -> items i.. are BAD
  let tp = ng.length;
  let fp = ok.length;
  for (let i = 0; i <= all.length; i++) {
    if (i > 0) {
      if (all[i - 1]!.ng) tp--;
      else fp--;
    }
    if (i > 0 && i < all.length && all[i]!.s === all[i - 1]!.s) continue;
    const lo = i === 0 ? all[0]!.s - Math.abs(all[0]!.s) * 0.1 - 1e-6 : all[i - 1]!.s;
    const hi = i === all.length ? all[i - 1]!.s + Math.abs(all[i - 1]!.s) * 0.1 + 1e-6 : all[i]!.s;
    const fn = ng.length - tp;
    const f1 = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
    const gap = (hi - lo) / (Math.abs(hi) + Math.abs(lo) + 1e-12);
    if (f1 > best.f1 + 1e-12 || (Math.abs(f1 - best.f1) <= 1e-12 && gap > best.gap)) best = { f1, gap, t: (lo + hi) / 2 };
  }
  return { threshold: best.t, rule: `F1-best (F1 ${best.f1.toFixed(3)}) over ${ok.length} OK and ${ng.length} NG scores` };
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26, |error| < 1.5e-7). */
function phi(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

/** P(score >= t) under a normal fitted to log scores (scores here are positive and skewed). */
function tailAbove(scores: readonly number[], t: number): number {
  const logs = scores.map((s) => Math.log(Math.max(s, 1e-9)));
  const s = Math.max(std(logs), 0.05);
  return 1 - phi((Math.log(Math.max(t, 1e-9)) - mean(logs)) / s);
}

/**
 * Stats at `threshold`. "computed": counted on the held-out scores. "projected": from normals
 * fitted to the log scores of each class, i.e. what to expect on new pictures of the same kind
 * with the same OK:NG proportion; it does not drop to 0 or jump to 1 on a handful of samples.
 */
export function computeStats(ok: readonly number[], ng: readonly number[], threshold: number, method: string): ModelStats {
  const fp = ok.filter((s) => s >= threshold).length;
  const tn = ok.length - fp;
  const tp = ng.filter((s) => s >= threshold).length;
  const round = (v: number) => Math.round(v * 10000) / 10000;
  const accuracy = ok.length + ng.length ? round((tp + tn) / (ok.length + ng.length)) : null;
  if (ng.length === 0) {
    return {
      accuracy,
      precision: { computed: null, projected: null },
      recall: { computed: null, projected: null },
      method: `${method}; no NG images: accuracy is the share of held-out OK pictures judged GOOD (projected false-alarm rate ${round(tailAbove(ok, threshold))}), precision and recall need NG images`,
    };
  }
  const recallP = tailAbove(ng, threshold);
  const fprP = ok.length >= 2 ? tailAbove(ok, threshold) : 0;
  const precisionP = recallP * ng.length + fprP * ok.length > 0 ? (recallP * ng.length) / (recallP * ng.length + fprP * ok.length) : null;
  return {
    accuracy,
    precision: { computed: tp + fp > 0 ? round(tp / (tp + fp)) : null, projected: precisionP === null ? null : round(precisionP) },
    recall: { computed: round(tp / ng.length), projected: round(recallP) },
    method,
  };
}

/** Area under the ROC curve (ties count half). */
export function auroc(ok: readonly number[], ng: readonly number[]): number {
  let wins = 0;
  for (const n of ng) for (const o of ok) wins += n > o ? 1 : n === o ? 0.5 : 0;
  return ok.length && ng.length ? wins / (ok.length * ng.length) : Number.NaN;
}

/**
 * Heatmap colour range: from the typical map level of OK pictures (low end) to as far above the
 * threshold as the threshold is above that level, so the threshold sits mid-scale.
 */
export function anomalyRange(okMapMedian: number, threshold: number): [number, number] {
  const lo = Math.min(okMapMedian, threshold * 0.5);
  return [round6(lo), round6(threshold + (threshold - lo))];
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

export function median(values: ArrayLike<number>): number {
  const a = Float32Array.from(values as ArrayLike<number>).sort();
  return a.length ? a[a.length >> 1]! : 0;
}
