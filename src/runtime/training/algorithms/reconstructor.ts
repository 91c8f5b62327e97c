import { ColorMode, type InputSpec } from '../../onnx/contract.ts';
import { GraphBuilder, blur, mapAndScore, pad2d } from '../../onnx/index.ts';
import { meanAndCovariance, topEigen } from '../linalg.ts';
import { type Learner, checkAborted, trainWithHoldout } from '../pipeline.ts';
import { DataType, commonParameters, num, pair, param } from './params.ts';
import { rng } from './random.ts';
import type { Algorithm, ParamValues } from './types.ts';

/**
 * Reconstructor Inspection: a PCA dictionary of OK patches (the global texture).
 *
 * Training samples `train_size` patches of `min_inspection_size` from the OK pictures and learns
 * their mean and `n_components` principal directions (covariance by onnxruntime, then `max_iter`
 * rounds of subspace iteration).
 *
 * In the graph, one Conv over [x, x^2] gives, per patch position (stride `min_inspection_step`),
 * the codes U^T (p - mu) and the energy |p - mu|^2. The map is
 *   (reconstruction error |p - mu|^2 - |codes|^2, in units of the OK residual variance
 *    + whitened code energy sum(code_k^2 / lambda_k)) / patch dimension,
 * i.e. about 1 for an ordinary patch, smoothed; the score is its maximum. Without NG pictures the
 * threshold is max(OK held-out) or mean + `reconstruct_thresh` std of them, whichever is higher.
 */

export const reconstructorDefinition = {
  id: 'reconstructor',
  name: 'Reconstructor Inspection',
  version: '1.0.0',
  type: 'anomaly-detection',
  attribute: 'texture',
  description:
    'Patch reconstruction error from a PCA dictionary learnt from OK pictures: learns the global texture; for surfaces, fabrics, materials. Learns from OK pictures only.',
  parameters: [
    param('train_size', DataType.INT, '10000', ['100', '1000000'], 'Patches sampled for training'),
    param('min_inspection_size', DataType.INT2, '8,8', ['2,2', '32,32'], 'Patch size (h,w)'),
    param('min_inspection_step', DataType.INT, '4', ['1', '32'], 'Patch step'),
    param('n_components', DataType.INT, '10', ['1', '256'], 'Dictionary size'),
    param('max_iter', DataType.INT, '10', ['1', '100'], 'Subspace iterations'),
    param('reconstruct_thresh', DataType.FLOAT, '2', ['0.5', '10'], 'OK-only threshold: std above the mean'),
    ...commonParameters(),
  ],
};

export interface PcaModel {
  spec: InputSpec;
  patch: [number, number];
  step: number;
  mean: Float32Array;
  /** Components, row-major k x D. */
  components: Float32Array;
  eigenvalues: Float32Array;
  residualVariance: number;
}

const channels = (spec: InputSpec) => (spec.color === ColorMode.RGB ? 3 : 1);

/** Map grid and padding such that patches are centred on the map cells and cover the picture. */
function geometry(spec: InputSpec, [ph, pw]: [number, number], step: number) {
  const oh = Math.ceil(spec.height / step);
  const ow = Math.ceil(spec.width / step);
  const th = (oh - 1) * step + ph - spec.height;
  const tw = (ow - 1) * step + pw - spec.width;
  const pads: [number, number, number, number] = [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
  return { oh, ow, pads };
}

const reflect = (i: number, n: number) => {
  // numpy/ONNX "reflect": -1 -> 1, n -> n - 2
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - j;
  return j;
};

/** Patches at random grid positions, as the graph sees them (reflect padding included). */
function samplePatches(items: readonly Float32Array[], spec: InputSpec, patch: [number, number], step: number, count: number, seed: number): Float32Array {
  const c = channels(spec);
  const { height: H, width: W } = spec;
  const [ph, pw] = patch;
  const { oh, ow, pads } = geometry(spec, patch, step);
  const D = c * ph * pw;
  const r = rng(seed);
  const out = new Float32Array(count * D);
  for (let s = 0; s < count; s++) {
    const img = items[Math.floor(r() * items.length)]!;
    const y0 = Math.floor(r() * oh) * step - pads[0];
    const x0 = Math.floor(r() * ow) * step - pads[1];
    let o = s * D;
    for (let k = 0; k < c; k++)
      for (let y = 0; y < ph; y++) {
        const yy = reflect(y0 + y, H);
        for (let x = 0; x < pw; x++) out[o++] = img[(k * H + yy) * W + reflect(x0 + x, W)]!;
      }
  }
  return out;
}

async function fitPca(rows: Float32Array, n: number, D: number, k: number, iterations: number) {
  const { mean, cov } = await meanAndCovariance(rows, n, D);
  const { values, vectors } = topEigen(cov, D, Math.min(k, D - 1), iterations);
  let trace = 0;
  for (let j = 0; j < D; j++) trace += cov[j * D + j]!;
  const eigenvalues = values.map((v) => Math.max(v, 1e-8));
  const kept = eigenvalues.reduce((a, b) => a + b, 0);
  const residualVariance = Math.max((trace - kept) / (D - eigenvalues.length), 1e-7);
  return { mean, components: vectors, eigenvalues, residualVariance };
}

export function buildPcaModel(m: PcaModel): Uint8Array {
  const { spec } = m;
  const c = channels(spec);
  const [ph, pw] = m.patch;
  const D = c * ph * pw;
  const k = m.eigenvalues.length;
  const { oh, ow, pads } = geometry(spec, m.patch, m.step);
  const g = new GraphBuilder('reconstructor');
  const x = g.input('images', ['N', c, spec.height, spec.width]);
  const padded = pad2d(g, x, pads);
  const both = g.op('Concat', [padded, g.op('Mul', [padded, padded])], { axis: 1 });
  // filters over [x, x^2]: k code filters (U on x), one energy filter (-2 mu on x, ones on x^2)
  const w = new Float32Array((k + 1) * 2 * D);
  const bias = new Float32Array(k + 1);
  for (let f = 0; f < k; f++) {
    w.set(m.components.subarray(f * D, (f + 1) * D), f * 2 * D);
    let b = 0;
    for (let j = 0; j < D; j++) b -= m.components[f * D + j]! * m.mean[j]!;
    bias[f] = b;
  }
  let muNorm = 0;
  for (let j = 0; j < D; j++) {
    w[k * 2 * D + j] = -2 * m.mean[j]!;
    w[k * 2 * D + D + j] = 1;
    muNorm += m.mean[j]! ** 2;
  }
  bias[k] = muNorm;
  const conv = g.op('Conv', [both, g.constant(w, [k + 1, 2 * c, ph, pw]), g.constant(bias, [k + 1])], { strides: [m.step, m.step] });
  const codes = g.op('Slice', [conv, g.constantInt64([0]), g.constantInt64([k]), g.constantInt64([1])]);
  const energy = g.op('Slice', [conv, g.constantInt64([k]), g.constantInt64([k + 1]), g.constantInt64([1])]);
  const sq = g.op('Mul', [codes, codes]);
  const codeEnergy = g.op('ReduceSum', [sq, g.constantInt64([1])], { keepdims: 1 });
  const residual = g.op('Relu', [g.op('Sub', [energy, codeEnergy])]);
  // whitened code energy as a 1x1 conv with weights 1/lambda
  const whitened = g.op('Conv', [
    sq,
    g.constant(
      m.eigenvalues.map((l) => 1 / l),
      [1, k, 1, 1],
    ),
  ]);
  const sum = g.op('Add', [g.op('Mul', [residual, g.scalar(1 / m.residualVariance)]), whitened]);
  const map = blur(g, g.op('Mul', [sum, g.scalar(1 / D)]), 1, 1);
  mapAndScore(g, map, oh, ow);
  return g.toBytes({ algorithm: 'reconstructor' });
}

function inputSpec(params: ParamValues): InputSpec {
  const size = num(params, 'input_size', 128);
  return { width: size, height: size, color: ColorMode.RGB, resize: 'fill', anomalyRange: [0, 1] };
}

export const reconstructor: Algorithm = {
  definition: reconstructorDefinition,
  inputSpec,
  async train(input) {
    const spec = input.spec;
    const c = channels(spec);
    const patch = pair(input.params, 'min_inspection_size', [8, 8]).map((v, i) => Math.min(v, i ? spec.width : spec.height)) as [number, number];
    const step = num(input.params, 'min_inspection_step', 4);
    const trainSize = num(input.params, 'train_size', 10000);
    const k = num(input.params, 'n_components', 10);
    const maxIter = num(input.params, 'max_iter', 10);
    const D = c * patch[0] * patch[1];

    const learner: Learner<Float32Array, PcaModel> = {
      kStd: num(input.params, 'reconstruct_thresh', 2),
      async fit(items, report, signal) {
        const rows = samplePatches(items, spec, patch, step, trainSize, items.length);
        checkAborted(signal);
        report(0.3);
        const pca = await fitPca(rows, trainSize, D, k, maxIter);
        return { spec, patch, step, ...pca };
      },
      build: buildPcaModel,
    };
    return trainWithHoldout(learner, input);
  },
};
