import type { InputSpec } from '../onnx/contract.ts';
import { channelsOf } from '../images/tensor.ts';
import { optionalNum, pair } from './algorithms/params.ts';
import type { TrainInput, TrainOutput } from './algorithms/types.ts';
import { runPerImage } from './ort.ts';
import { SensitivityProbes } from './sensitivity.ts';
import { pseudoDefects } from './synthetic-defects.ts';
import { anomalyRange, chooseThreshold, computeStats, median } from './threshold.ts';

export type Report = (fraction: number, stage?: string) => void;

/**
 * What an algorithm provides to the shared training pipeline:
 * `prepare` turns each picture into what `fit` learns from (e.g. features from a fixed extractor;
 * done once), `fit` learns a model from some of them, `build` compiles a model to ONNX.
 */
export interface Learner<F, M> {
  prepare?(tensors: Float32Array[], report: Report, signal: AbortSignal): Promise<F[]>;
  fit(items: F[], report: Report, signal: AbortSignal): Promise<M> | M;
  build(model: M): Uint8Array;
  /** k of the OK-only threshold rule (mean + k std). */
  kStd?: number;
  /** Folds of the held-out scoring (default 4; fewer when there are fewer OK pictures). */
  folds?: number;
  /**
   * The model fold f would have learnt, derived from the final one without refitting (e.g. a
   * memory bank minus the entries that came from the held-out pictures). When given, the final
   * model is fitted first and the folds are derived from it, which makes many folds cheap.
   */
  derive?(model: M, heldOut: ReadonlySet<number>): M;
}

export function checkAborted(signal: AbortSignal) {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/** Indices split into k folds, interleaved (pictures usually come in upload order). */
export function folds(n: number, k: number): number[][] {
  return Array.from({ length: k }, (_, f) => Array.from({ length: n }, (_, i) => i).filter((i) => i % k === f));
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Trains with honest held-out scores:
 * 1. k-fold over the OK pictures (k = min(learner.folds ?? 4, #OK)): a model fitted (or derived)
 *    without fold f scores fold f;
 * 2. the final model is fitted on every OK picture and scores the NG pictures (never fitted on);
 * 3. threshold (F1-best with NG, else the OK-only rule) and stats from those held-out scores.
 */
export async function trainWithHoldout<F, M>(learner: Learner<F, M>, input: TrainInput): Promise<TrainOutput & { model: M }> {
  const { ok, ng, spec, params, progress, signal } = input;
  if (ok.length < 2) throw new Error(`at least 2 OK images are needed, got ${ok.length}`);
  const dims = [channelsOf(spec), spec.height, spec.width] as const;
  const span =
    (lo: number, hi: number, stage: string): Report =>
    (f, s) =>
      progress(lo + (hi - lo) * Math.min(1, Math.max(0, f)), s ?? stage);

  progress(0.02, 'features');
  const items = learner.prepare ? await learner.prepare(ok, span(0.02, 0.25, 'features'), signal) : (ok as unknown as F[]);
  checkAborted(signal);

  // Tiles of one picture stay in one fold (a neighbour tile shares pixels with it).
  const okGroups = input.okGroups ?? ok.map((_, i) => i);
  const pictures = Math.max(...okGroups) + 1;
  const k = Math.min(pictures, learner.folds ?? 4);
  const okScores = new Array<number>(ok.length).fill(0);
  const pseudoScores: number[] = [];
  const mapMedians: number[] = [];
  const sensitivity = new SensitivityProbes(ok.length);
  const shape = { channels: dims[0], height: dims[1], width: dims[2] };
  const parts = folds(pictures, k).map((fold) => {
    const inFold = new Set(fold);
    return okGroups.flatMap((g, i) => (inFold.has(g) ? [i] : []));
  });
  const derive = learner.derive;
  let model: M | null = null;
  if (derive) {
    const finalReport = span(0.25, 0.6, 'fitting');
    finalReport(0);
    model = await learner.fit(items, finalReport, signal);
    checkAborted(signal);
  }
  const [lo, hi] = derive ? [0.6, 0.9] : [0.25, 0.7];
  for (let f = 0; f < k; f++) {
    const held = new Set(parts[f]);
    const report = span(lo + ((hi - lo) * f) / k, lo + ((hi - lo) * (f + 1)) / k, `holdout ${f + 1}/${k}`);
    report(0);
    const foldModel = derive
      ? derive(model!, held)
      : await learner.fit(
          items.filter((_, i) => !held.has(i)),
          report,
          signal,
        );
    checkAborted(signal);
    const heldIdx = [...held];
    const heldTensors = heldIdx.map((i) => ok[i]!);
    // graded synthetic defects in the held-out pictures: what this model catches (stats.sensitivity)
    const graded = sensitivity.forFold(heldTensors, shape, f);
    // pseudo-defects made from the held-out pictures (the automatic choice's probes)
    const fake = input.probes ? pseudoDefects(heldTensors, shape, heldIdx.length * input.probes, 17 + f) : [];
    // one session per fold judges all three: the held-out pictures, then the probes
    const out = await runPerImage(learner.build(foldModel), [...heldTensors, ...graded.tensors, ...fake.map((p) => p.tensor)], dims, ['score', 'anomaly_map']);
    const scores = out.score!.map((s) => s[0]!);
    heldIdx.forEach((i, j) => (okScores[i] = scores[j]!));
    for (const m of out.anomaly_map!.slice(0, heldIdx.length)) mapMedians.push(median(m));
    sensitivity.record(graded.probes, out.anomaly_map!.slice(heldIdx.length, heldIdx.length + graded.tensors.length), spec);
    pseudoScores.push(...scores.slice(heldIdx.length + graded.tensors.length));
    await yieldToLoop();
    checkAborted(signal);
  }

  if (!model) {
    const finalReport = span(0.7, 0.9, 'fitting');
    finalReport(0);
    model = await learner.fit(items, finalReport, signal);
    checkAborted(signal);
  }
  progress(0.9, 'threshold');
  const onnx = learner.build(model);
  const ngTileScores = ng.length ? (await runPerImage(onnx, ng, dims, ['score'])).score!.map((s) => s[0]!) : [];
  checkAborted(signal);
  // a tiled picture scores the highest of its tiles, as in prediction
  const okPictureScores = perPicture(okScores, okGroups);
  const ngScores = perPicture(ngTileScores, input.ngGroups ?? ngTileScores.map((_, i) => i));

  const override = optionalNum(params, 'threshold');
  const choice = chooseThreshold(okPictureScores, ngScores, learner.kStd ?? 3);
  const threshold = override ?? choice.threshold;
  const method =
    `held-out scores: ${k === pictures ? 'leave-one-out' : `${k}-fold`} cross-validation over ${pictures} OK pictures` +
    (spec.tiling ? ` (${ok.length} tiles, a picture scoring its highest tile)` : '') +
    (derive ? ' (fold models derived from the final one without their pictures)' : '') +
    (ng.length ? `, ${ng.length} NG pictures scored by the final model (they also set the threshold, so computed figures are optimistic)` : '') +
    `; threshold: ${override !== null ? 'set by the user' : choice.rule}`;
  const stats = { ...computeStats(okPictureScores, ngScores, threshold, method), sensitivity: sensitivity.result() };
  const range: [number, number] = params.anomaly_range ? pair(params, 'anomaly_range', [0, 1]) : anomalyRange(median(mapMedians), threshold);
  const inputSpec: InputSpec = { ...spec, anomalyRange: range };

  const representative = new Float32Array(ok[0]!.length);
  for (const t of ok) for (let i = 0; i < t.length; i++) representative[i]! += t[i]! / ok.length;

  progress(0.97, 'exporting');
  return {
    onnx,
    inputSpec,
    threshold,
    stats,
    representative,
    model,
    details: {
      okHeldOutScores: okPictureScores.map(round4),
      ngScores: ngScores.map(round4),
      ...(input.probes ? { pseudoScores: pseudoScores.map(round4) } : {}),
      thresholdRule: override !== null ? 'user' : choice.rule,
    },
  };
}

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** The highest score of each picture's tensors (groups[i]: the picture of tensor i). */
function perPicture(scores: readonly number[], groups: readonly number[]): number[] {
  const out: number[] = [];
  scores.forEach((s, i) => {
    const g = groups[i]!;
    out[g] = out[g] === undefined ? s : Math.max(out[g]!, s);
  });
  return out.filter((v) => v !== undefined);
}
