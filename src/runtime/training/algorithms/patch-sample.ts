import { ColorMode, type InputSpec } from '../../inference/contract.ts';
import { GraphBuilder, affine, blur, mapAndScore } from '../../onnx/index.ts';
import { runPerImage } from '../ort.ts';
import { type Learner, checkAborted, trainWithHoldout } from '../pipeline.ts';
import { greedyCoreset } from './coreset.ts';
import { type FeatureSpec, buildFeatures, featureGrid } from './filter-bank.ts';
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
    param('num_features', DataType.INT, '100', ['10', '2000'], 'Memory-bank entries per OK picture'),
    ...commonParameters(),
  ],
};

export interface PatchModel {
  spec: InputSpec;
  modelType: number;
  dims: number;
  mean: Float32Array;
  invStd: Float32Array;
  /** Standardised descriptors, row-major entries x dims. */
  bank: Float32Array;
  entries: number;
}

const channels = (spec: InputSpec) => (spec.color === ColorMode.RGB ? 3 : 1);
const featureSpec = (spec: InputSpec, modelType: number): FeatureSpec => ({ channels: channels(spec), height: spec.height, width: spec.width, modelType });

function extractorModel(spec: InputSpec, modelType: number): { bytes: Uint8Array; dims: number } {
  const g = new GraphBuilder('patch-sample-features');
  const x = g.input('images', ['N', channels(spec), spec.height, spec.width]);
  const { features, dims } = buildFeatures(g, x, featureSpec(spec, modelType));
  const { h, w } = featureGrid(featureSpec(spec, modelType));
  g.output(features, 'features', ['N', dims, h, w]);
  return { bytes: g.toBytes(), dims };
}

export function buildPatchModel(m: PatchModel): Uint8Array {
  const fs = featureSpec(m.spec, m.modelType);
  const { h, w } = featureGrid(fs);
  const g = new GraphBuilder('patch-sample');
  const x = g.input('images', ['N', fs.channels, fs.height, fs.width]);
  const { features, dims } = buildFeatures(g, x, fs);
  if (dims !== m.dims) throw new Error(`feature size ${dims} differs from the trained ${m.dims}`);
  const z = affine(g, features, m.invStd, m.mean.map((v, i) => -v * m.invStd[i]!));
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
  mapAndScore(g, blur(g, dist, 1, 1), h, w);
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

    const learner: Learner<Float32Array, PatchModel> = {
      async prepare(tensors, report) {
        const ex = extractorModel(spec, modelType);
        dims = ex.dims;
        const out = await runPerImage(ex.bytes, tensors, [channels(spec), spec.height, spec.width], ['features']);
        report(1);
        return out.features!;
      },
      fit(items, report, signal) {
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
        report(0.1, 'coreset');
        const entries = Math.min(n, perImage * items.length);
        const chosen = greedyCoreset(rows, n, dims, entries, { onStep: (f) => report(0.1 + 0.9 * f, 'coreset') });
        const bank = new Float32Array(entries * dims);
        chosen.forEach((idx, e) => bank.set(rows.subarray(idx * dims, (idx + 1) * dims), e * dims));
        return { spec, modelType, dims, mean, invStd, bank, entries };
      },
      build: buildPatchModel,
    };
    return trainWithHoldout(learner, input);
  },
};
