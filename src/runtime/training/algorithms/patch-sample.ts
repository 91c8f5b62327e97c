import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { ColorMode, type InputSpec } from '../../onnx/contract.ts';
import { GraphBuilder, blur, mapAndScore } from '../../onnx/index.ts';
import { meanAndCovariance } from '../linalg.ts';
import { runPerImage } from '../ort.ts';
import { type Learner, checkAborted, trainWithHoldout } from '../pipeline.ts';
import { greedyCoreset } from './coreset.ts';
import { type FeatureSpec, buildFeatures, featureGrid, strideOf } from './filter-bank.ts';
import { type LearnedBank, buildLearnedFeatures, learnBank } from './learned-bank.ts';
import { DataType, commonParameters, num, param } from './params.ts';
import type { Algorithm, ParamValues } from './types.ts';

/**
 * Patch Sample Inspection (PatchCore without pretrained weights).
 *
 * A fixed filter-bank extractor (filter-bank.ts) describes every 4x4 cell of the picture by its
 * neighbourhood at three octaves. Training standardises the descriptors of all OK cells, and
 * keeps a memory bank of them reduced by greedy k-center coreset (`num_features` entries per
 * OK picture). A cell's anomaly is the distance to its nearest bank entry, computed in the
 * graph as one 1x1 Conv (-2 b.f + |b|^2) + ReduceMin + |f|^2; the map is that distance
 * smoothed, the score its maximum. No position enters the descriptor, so parts may move and
 * turn; textures work as well.
 */

export const patchSampleDefinition = {
  id: 'patch-sample',
  name: 'Patch Sample Inspection',
  version: '1.0.0',
  type: 'anomaly-detection',
  attribute: 'position-tolerant',
  description:
    'Nearest-neighbour distance of each patch descriptor to a coreset memory bank of OK patches. Tolerates different placement and rotation; works for textures. Learns from OK pictures only.',
  parameters: [
    param('model_type', DataType.INT, '0', ['0', '1'], 'Model type (0 small, 1 large)'),
    param('num_features', DataType.INT, '100', ['10', '2000'], 'Memory-bank entries per OK picture (4096 at most in all)'),
    param('features', DataType.STRING, 'fixed', [null, null], 'Patch features: learned (from the OK pictures) or fixed (Gaussian derivatives)'),
    param('components', DataType.INT, '12', ['2', '64'], 'Learned features: filters per pyramid level'),
    param('kernel', DataType.INT, '7', ['3', '15'], 'Learned features: filter size (pixels)'),
    ...commonParameters(),
  ],
};

export interface PatchModel {
  spec: InputSpec;
  modelType: number;
  dims: number;
  /** Descriptor -> bank space: z = projection (f - mean), row-major dims x dims. */
  mean: Float32Array;
  projection: Float32Array;
  /** Standardised descriptors, row-major entries x dims. */
  bank: Float32Array;
  entries: number;
  /** Which training picture each bank entry came from (for held-out scoring). */
  owner: Int32Array;
  /** Learned filters; null for the fixed Gaussian-derivative bank. */
  filters: LearnedBank | null;
}

/** Bank size cap: prediction cost grows with it (cells x entries x dims multiply-adds). */
const MAX_BANK = Number(process.env.SPECTRO_MAX_BANK ?? 4096);

/** Smoothing of the distance map (cells): integrates a long faint defect, keeps small ones. */
const MAP_SIGMA = 1;

const channels = (spec: InputSpec) => (spec.color === ColorMode.RGB ? 3 : 1);
const featureSpec = (spec: InputSpec, modelType: number): FeatureSpec => ({ channels: channels(spec), height: spec.height, width: spec.width, modelType });

function features(g: GraphBuilder, x: string, spec: InputSpec, modelType: number, filters: LearnedBank | null) {
  return filters ? buildLearnedFeatures(g, x, filters, strideOf(modelType)) : buildFeatures(g, x, featureSpec(spec, modelType));
}

function extractorModel(spec: InputSpec, modelType: number, filters: LearnedBank | null): { bytes: Uint8Array; dims: number } {
  const g = new GraphBuilder('patch-sample-features');
  const x = g.input('images', ['N', channels(spec), spec.height, spec.width]);
  const { features: feats, dims } = features(g, x, spec, modelType, filters);
  const features_ = feats;
  const { h, w } = featureGrid(featureSpec(spec, modelType));
  g.output(features_, 'features', ['N', dims, h, w]);
  return { bytes: g.toBytes(), dims };
}

export function buildPatchModel(m: PatchModel): Uint8Array {
  const fs = featureSpec(m.spec, m.modelType);
  const { h, w } = featureGrid(fs);
  const g = new GraphBuilder('patch-sample');
  const x = g.input('images', ['N', fs.channels, fs.height, fs.width]);
  const { features: feats, dims } = features(g, x, m.spec, m.modelType, m.filters);
  if (dims !== m.dims) throw new Error(`feature size ${dims} differs from the trained ${m.dims}`);
  const bias = new Float32Array(dims);
  for (let k = 0; k < dims; k++) for (let j = 0; j < dims; j++) bias[k]! -= m.projection[k * dims + j]! * m.mean[j]!;
  const z = g.op('Conv', [feats, g.constant(m.projection, [dims, dims, 1, 1]), g.constant(bias, [dims])]);
  const weights = m.bank.map((v) => -2 * v);
  const norms = new Float32Array(m.entries);
  for (let e = 0; e < m.entries; e++) {
    let s = 0;
    for (let k = 0; k < dims; k++) s += m.bank[e * dims + k]! ** 2;
    norms[e] = s;
  }
  const cross = g.op('Conv', [z, g.constant(weights, [m.entries, dims, 1, 1]), g.constant(norms, [m.entries])]);
  const nearest = g.op('ReduceMin', [cross], { axes: [1], keepdims: 1 });
  const self = g.op('ReduceSum', [g.op('Mul', [z, z]), g.constantInt64([1])], { keepdims: 1 });
  const d2 = g.op('Relu', [g.op('Add', [nearest, self])]);
  // per-dimension RMS distance: comparable across model types
  const dist = g.op('Sqrt', [g.op('Mul', [d2, g.scalar(1 / dims)])]);
  mapAndScore(g, blur(g, dist, 1, MAP_SIGMA), h, w);
  return g.toBytes({ algorithm: 'patch-sample' });
}

function inputSpec(params: ParamValues): InputSpec {
  // multiples of 16: three octaves on a stride-4 grid
  const size = Math.max(32, Math.round(num(params, 'input_size', 128) / 16) * 16);
  return { width: size, height: size, color: ColorMode.RGB, resize: 'fill', anomalyRange: [0, 1] };
}

export const patchSample: Algorithm = {
  definition: patchSampleDefinition,
  inputSpec,
  async train(input) {
    const spec = input.spec;
    const modelType = num(input.params, 'model_type', 0);
    const perImage = num(input.params, 'num_features', 100);
    const { h, w } = featureGrid(featureSpec(spec, modelType));
    const cells = h * w;
    let dims = 0;
    let filters: LearnedBank | null = null;

    const learner: Learner<Float32Array, PatchModel> = {
      async prepare(tensors, report) {
        if (input.params.features === 'learned') {
          report(0, 'learning filters');
          filters = await learnBank(tensors, {
            channels: channels(spec),
            width: spec.width,
            height: spec.height,
            kernel: num(input.params, 'kernel', 7),
            components: num(input.params, 'components', 12),
            levels: 3,
            samples: 20000,
          });
        }
        const ex = extractorModel(spec, modelType, filters);
        dims = ex.dims;
        const out = await runPerImage(ex.bytes, tensors, [channels(spec), spec.height, spec.width], ['features']);
        report(1);
        return out.features!;
      },
      async fit(items, report, signal) {
        const n = items.length * cells;
        const rows = new Float32Array(n * dims);
        items.forEach((f, i) => {
          for (let k = 0; k < dims; k++) for (let c = 0; c < cells; c++) rows[(i * cells + c) * dims + k] = f[k * cells + c]!;
        });
        const mean = new Float32Array(dims);
        const sq = new Float32Array(dims);
        for (let r = 0; r < n; r++)
          for (let k = 0; k < dims; k++) {
            const v = rows[r * dims + k]!;
            mean[k]! += v / n;
            sq[k]! += (v * v) / n;
          }
        const invStd = mean.map((m, k) => 1 / Math.sqrt(Math.max(sq[k]! - m * m, 1e-8)));
        for (let r = 0; r < n; r++) for (let k = 0; k < dims; k++) rows[r * dims + k] = (rows[r * dims + k]! - mean[k]!) * invStd[k]!;
        checkAborted(signal);
        const projection = await whitening(rows, n, dims, invStd);
        applyInPlace(rows, n, dims, projection, invStd);
        checkAborted(signal);
        report(0.1, 'coreset');
        const entries = Math.min(n, perImage * items.length, MAX_BANK);
        const chosen = greedyCoreset(rows, n, dims, entries, { onStep: (f) => report(0.1 + 0.9 * f, 'coreset') });
        const bank = new Float32Array(entries * dims);
        chosen.forEach((idx, e) => bank.set(rows.subarray(idx * dims, (idx + 1) * dims), e * dims));
        const owner = chosen.map((idx) => Math.floor(idx / cells));
        return { spec, modelType, dims, mean, projection, bank, entries, owner, filters };
      },
      build: buildPatchModel,
      // leave-one-out is cheap: a fold's bank is the final bank without its pictures' entries
      // (about the size a coreset of the other pictures would have); the extractor and the
      // whitening stay those of the final model
      folds: 20,
      derive(model, heldOut) {
        const keep: number[] = [];
        model.owner.forEach((o, e) => heldOut.has(o) || keep.push(e));
        const bank = new Float32Array(keep.length * model.dims);
        keep.forEach((e, i) => bank.set(model.bank.subarray(e * model.dims, (e + 1) * model.dims), i * model.dims));
        return { ...model, bank, entries: keep.length, owner: Int32Array.from(keep, (e) => model.owner[e]!) };
      },
    };
    return trainWithHoldout(learner, input);
  },
};

/** Regularisation of the whitening: eigenvalues get this share of their mean added. */
const SHRINK = 0.3;

/**
 * Whitening of standardised descriptors (correlation matrix C = V L V^T):
 * P = (L + s mean(L))^-1/2 V^T, returned pre-multiplied with the standardisation (P diag(invStd)).
 * Correlated responses (the same edge at three octaves) stop counting several times, and rare
 * independent ones (a thin line) weigh as much as the common ones.
 */
async function whitening(rows: Float32Array, n: number, d: number, invStd: Float32Array): Promise<Float32Array> {
  const { cov } = await meanAndCovariance(rows, n, d);
  const C = new Matrix(d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) C.set(i, j, (cov[i * d + j]! + cov[j * d + i]!) / 2);
  const evd = new EigenvalueDecomposition(C, { assumeSymmetric: true });
  const values = evd.realEigenvalues.map((v) => Math.max(v, 0));
  const floor = SHRINK * (values.reduce((a, b) => a + b, 0) / d);
  const V = evd.eigenvectorMatrix;
  const out = new Float32Array(d * d);
  for (let k = 0; k < d; k++) {
    const scale = 1 / Math.sqrt(values[k]! + floor);
    for (let j = 0; j < d; j++) out[k * d + j] = V.get(j, k) * scale * invStd[j]!;
  }
  return out;
}

/** rows (already standardised) -> whitened, in place: z = P diag(invStd)^-1 x. */
function applyInPlace(rows: Float32Array, n: number, d: number, projection: Float32Array, invStd: Float32Array) {
  const tmp = new Float32Array(d);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let k = 0; k < d; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (projection[k * d + j]! / invStd[j]!) * rows[o + j]!;
      tmp[k] = s;
    }
    rows.set(tmp, o);
  }
}
