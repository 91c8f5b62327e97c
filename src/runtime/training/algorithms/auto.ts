import type { InputSpec } from '../../onnx/contract.ts';
import { auroc } from '../threshold.ts';
import { alignedPatch } from './aligned-patch.ts';
import { commonParameters, effectiveParams } from './params.ts';
import { inputSpec, patchSample } from './patch-sample.ts';
import type { Algorithm, ParamValues, TrainInput, TrainOutput } from './types.ts';

/**
 * The automatic choice, what `trainModel` does when no algorithm is named.
 *
 * 1. Are the pictures of an aligned part or of a texture? OK pictures of a part in a fixture
 *    look alike place by place; crops of a texture do not. The measure is the mean correlation
 *    between pairs of OK pictures after removing slow lighting trends (alignment()).
 * 2. The candidates that fit are trained: Patch Sample always (it tolerates any placement),
 *    Aligned Patch as well when the pictures are aligned.
 * 3. Each is judged on what it never learnt from: its held-out OK pictures against pseudo-defects
 *    made from those same held-out pictures (synthetic-defects.ts), and against the NG pictures
 *    when there are some. The one that separates best (AUROC) is kept; a tie within 0.005 keeps
 *    the position-tolerant one.
 * The figures and the reason go into the model's stats and status text.
 */

export const autoDefinition = {
  id: 'auto',
  name: 'Automatic choice',
  version: '1.0.0',
  type: 'anomaly-detection',
  attribute: 'automatic',
  description:
    'Looks at the OK pictures (aligned part or texture), trains the algorithms that fit and keeps the one that best separates held-out OK pictures from pseudo-defects (and from NG pictures when given). Takes as long as the candidates together.',
  parameters: commonParameters().map((p) => (p.name === 'input_size' ? { ...p, value: '256' } : p)),
};

/** Above this mean correlation the OK pictures are taken for an aligned part. */
export const ALIGNED_CORRELATION = 0.3;
const PROBES = 2;
const GRID = 64;

/** Grey GRIDxGRID version of a tensor with its slow trend removed, standardised. */
function detrended(t: Float32Array, spec: InputSpec): Float32Array {
  const c = spec.color === 'rgb' ? 3 : 1;
  const plane = spec.width * spec.height;
  const g = new Float32Array(GRID * GRID);
  const n = new Float32Array(GRID * GRID);
  for (let y = 0; y < spec.height; y++)
    for (let x = 0; x < spec.width; x++) {
      const cell = Math.floor((y * GRID) / spec.height) * GRID + Math.floor((x * GRID) / spec.width);
      let v = 0;
      for (let k = 0; k < c; k++) v += t[k * plane + y * spec.width + x]!;
      g[cell]! += v / c;
      n[cell]! += 1;
    }
  for (let i = 0; i < g.length; i++) g[i]! /= Math.max(1, n[i]!);
  // minus a 17x17 box mean: lighting drift is not structure
  const r = 8;
  const out = new Float32Array(g.length);
  for (let y = 0; y < GRID; y++)
    for (let x = 0; x < GRID; x++) {
      let s = 0;
      let m = 0;
      for (let yy = Math.max(0, y - r); yy <= Math.min(GRID - 1, y + r); yy++)
        for (let xx = Math.max(0, x - r); xx <= Math.min(GRID - 1, x + r); xx++) {
          s += g[yy * GRID + xx]!;
          m++;
        }
      out[y * GRID + x] = g[y * GRID + x]! - s / m;
    }
  let mean = 0;
  for (const v of out) mean += v / out.length;
  let sd = 0;
  for (const v of out) sd += (v - mean) ** 2 / out.length;
  sd = Math.sqrt(sd) || 1;
  return out.map((v) => (v - mean) / sd);
}

/**
 * Mean correlation of pairs of OK pictures (neighbours in upload order, up to 12 pairs), -1..1.
 * Tiled pictures (`groups`: the picture of each tensor) pair the same tile of two pictures.
 */
export function alignment(ok: readonly Float32Array[], spec: InputSpec, groups?: readonly number[]): number {
  const byPicture: Float32Array[][] = [];
  ok.forEach((t, i) => (byPicture[groups?.[i] ?? i] ??= []).push(t));
  const pairs: [Float32Array, Float32Array][] = [];
  for (let p = 0; p + 1 < byPicture.length && pairs.length < 12; p++) {
    const a = byPicture[p]!;
    const b = byPicture[p + 1]!;
    // the middle tile (tiles are in row order), or the picture itself
    const t = Math.min(a.length, b.length) >> 1;
    pairs.push([a[t]!, b[t]!]);
  }
  let sum = 0;
  for (const [x, y] of pairs) {
    const a = detrended(x, spec);
    const b = detrended(y, spec);
    let s = 0;
    for (let j = 0; j < a.length; j++) s += a[j]! * b[j]!;
    sum += s / a.length;
  }
  return pairs.length ? sum / pairs.length : 0;
}

interface Judged {
  algorithm: Algorithm;
  out: TrainOutput;
  separation: number;
  pseudo: number;
  ng: number | null;
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

export const auto: Algorithm = {
  definition: autoDefinition,
  inputSpec,
  async train(input: TrainInput) {
    const a = alignment(input.ok, input.spec, input.okGroups);
    const aligned = a >= ALIGNED_CORRELATION;
    const candidates = aligned ? [alignedPatch, patchSample] : [patchSample];
    const judged: Judged[] = [];
    for (const [i, algorithm] of candidates.entries()) {
      const params: ParamValues = effectiveParams(
        algorithm.definition.parameters,
        Object.fromEntries(Object.entries(input.params).filter(([k]) => algorithm.definition.parameters.some((p) => p.name === k))),
      );
      const lo = i / candidates.length;
      const out = await algorithm.train({
        ...input,
        params,
        probes: PROBES,
        progress: (f, stage, message) => input.progress(lo + f / candidates.length, `${algorithm.definition.id}: ${stage}`, message),
      });
      const ok = out.details.okHeldOutScores as number[];
      const pseudo = auroc(ok, (out.details.pseudoScores as number[] | undefined) ?? []);
      const ngScores = out.details.ngScores as number[];
      const ng = ngScores.length ? auroc(ok, ngScores) : null;
      judged.push({ algorithm, out, pseudo, ng, separation: ng === null ? pseudo : (pseudo + ng) / 2 });
    }
    const top = Math.max(...judged.map((j) => j.separation));
    // a tie goes to the position-tolerant one (it stays right when the fixture is moved)
    const tied = judged.filter((j) => j.separation >= top - 0.005);
    const best = tied.find((j) => j.algorithm === patchSample) ?? tied[0]!;
    const figures = judged
      .map((j) => `${j.algorithm.definition.name} ${r3(j.separation)} (pseudo-defects ${r3(j.pseudo)}${j.ng === null ? '' : `, NG ${r3(j.ng)}`})`)
      .join('; ');
    const why =
      `automatic choice: ${best.algorithm.definition.name}. The OK pictures ${aligned ? 'look aligned' : 'look like a texture or a part that moves'} ` +
      `(correlation ${r3(a)}, aligned from ${ALIGNED_CORRELATION}); held-out separation (AUROC): ${figures}`;
    return {
      ...best.out,
      stats: { ...best.out.stats, method: `${why}. ${best.out.stats.method ?? ''}`.trim() },
      details: {
        ...best.out.details,
        auto: {
          alignment: r3(a),
          aligned,
          candidates: judged.map((j) => ({ id: j.algorithm.definition.id, separation: r3(j.separation), pseudo: r3(j.pseudo), ng: j.ng })),
        },
      },
      chosen: { id: best.algorithm.definition.id, version: best.algorithm.definition.version, why },
    };
  },
};
