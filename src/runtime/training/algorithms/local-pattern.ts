import { ColorMode, type InputSpec } from '../../onnx/contract.ts';
import { GraphBuilder, mapAndScore, pad2d } from '../../onnx/index.ts';
import { runPerImage } from '../ort.ts';
import { type Learner, trainWithHoldout } from '../pipeline.ts';
import { DataType, commonParameters, num, pair, param } from './params.ts';
import type { Algorithm, ParamValues } from './types.ts';

/**
 * Local Pattern Inspection: local structure statistics per position, for aligned pictures.
 *
 * Every window (min_inspection_size, moved by min_inspection_step) is described per channel by
 * its mean, its standard deviation and its mean squared horizontal and vertical gradients
 * (brightness, contrast and texture direction of the local pattern). Training keeps, per
 * position and statistic, the mean and spread over the OK pictures; a window's anomaly is the
 * mean squared z-score of its statistics, the score the map's maximum. Unlike Pattern Matching
 * it compares what a place looks like, not pixel for pixel, so it tolerates small shifts of a
 * pattern inside a window but not a different placement of the whole picture.
 */

export const localPatternDefinition = {
  id: 'local-pattern',
  name: 'Local Pattern Inspection',
  version: '1.0.0',
  type: 'anomaly-detection',
  attribute: 'aligned',
  description:
    'Per-position statistics of the local structure (mean, contrast, gradients) of the OK pictures; flags windows whose statistics differ. Pictures must be aligned and of one size. Learns from OK pictures only.',
  parameters: [
    param('min_inspection_size', DataType.INT2, '32,32', ['2,2', '256,256'], 'Inspection window (h,w)'),
    param('min_inspection_step', DataType.INT, '16', ['1', '128'], 'Inspection step'),
    ...commonParameters(),
  ],
};

export interface LocalModel {
  spec: InputSpec;
  window: [number, number];
  step: number;
  /** Per statistic and map cell (stats x oh x ow). */
  mean: Float32Array;
  invStd: Float32Array;
}

/** Statistics per channel: mean, standard deviation, mean gx^2, mean gy^2. */
const STATS = 4;
/**
 * Spread floor: a share of the statistic's typical spread over all positions plus an absolute
 * one (0..1 units), so that few pictures or a flat area do not give near-zero spreads.
 */
const SPREAD_SHARE = 0.5;
const SPREAD_FLOOR = 0.01;

const channels = (spec: InputSpec) => (spec.color === ColorMode.RGB ? 3 : 1);

function grid(spec: InputSpec, window: [number, number], step: number) {
  const { height: H, width: W } = spec;
  const [kh, kw] = window;
  const oh = Math.ceil(H / step);
  const ow = Math.ceil(W / step);
  // pad so that the windows are centred on the map cells and cover the whole picture
  const ph = Math.max(0, (oh - 1) * step + kh - H);
  const pw = Math.max(0, (ow - 1) * step + kw - W);
  const pads = [Math.floor(ph / 2), Math.floor(pw / 2), ph - Math.floor(ph / 2), pw - Math.floor(pw / 2)];
  return { oh, ow, pads };
}

/** Graph part: images [N,c,H,W] -> statistics [N, STATS*c, oh, ow]. */
function statistics(g: GraphBuilder, x: string, spec: InputSpec, window: [number, number], step: number): string {
  const c = channels(spec);
  const { pads } = grid(spec, window, step);
  const pool = (t: string) => g.op('AveragePool', [t], { kernel_shape: window, strides: [step, step], pads, count_include_pad: 0 });
  const diff = (kernel: number[], shape: number[]) => {
    const w = new Float32Array(c * kernel.length);
    for (let k = 0; k < c; k++) w.set(kernel, k * kernel.length);
    // repeat the last row/column: the picture's edge is no gradient
    const padded = pad2d(g, x, shape[0] === 1 ? [0, 0, 0, 1] : [0, 0, 1, 0], 'edge');
    return g.op('Conv', [padded, g.constant(w, [c, 1, ...shape])], { group: c });
  };
  const gx = diff([-1, 1], [1, 2]);
  const gy = diff([-1, 1], [2, 1]);
  const m = pool(x);
  const m2 = pool(g.op('Mul', [x, x]));
  const sd = g.op('Sqrt', [g.op('Relu', [g.op('Sub', [m2, g.op('Mul', [m, m])])])]);
  // gradients on a comparable scale to brightness: root of the mean square
  const ex = g.op('Sqrt', [pool(g.op('Mul', [gx, gx]))]);
  const ey = g.op('Sqrt', [pool(g.op('Mul', [gy, gy]))]);
  return g.op('Concat', [m, sd, ex, ey], { axis: 1 });
}

function statsModel(spec: InputSpec, window: [number, number], step: number): Uint8Array {
  const g = new GraphBuilder('local-pattern-statistics');
  const x = g.input('images', ['N', channels(spec), spec.height, spec.width]);
  const { oh, ow } = grid(spec, window, step);
  g.output(statistics(g, x, spec, window, step), 'stats', ['N', STATS * channels(spec), oh, ow]);
  return g.toBytes();
}

export function buildLocalModel(m: LocalModel): Uint8Array {
  const c = channels(m.spec);
  const d = STATS * c;
  const { oh, ow } = grid(m.spec, m.window, m.step);
  const g = new GraphBuilder('local-pattern');
  const x = g.input('images', ['N', c, m.spec.height, m.spec.width]);
  const s = statistics(g, x, m.spec, m.window, m.step);
  const z = g.op('Mul', [g.op('Sub', [s, g.constant(m.mean, [1, d, oh, ow])]), g.constant(m.invStd, [1, d, oh, ow])]);
  const map = g.op('ReduceMean', [g.op('Mul', [z, z])], { axes: [1], keepdims: 1 });
  mapAndScore(g, map, oh, ow);
  return g.toBytes({ algorithm: 'local-pattern' });
}

function inputSpec(params: ParamValues): InputSpec {
  const size = num(params, 'input_size', 128);
  return { width: size, height: size, color: ColorMode.RGB, resize: 'fill', anomalyRange: [0, 1] };
}

export const localPattern: Algorithm = {
  definition: localPatternDefinition,
  inputSpec,
  async train(input) {
    const spec = input.spec;
    const c = channels(spec);
    const [kh, kw] = pair(input.params, 'min_inspection_size', [32, 32]);
    const window: [number, number] = [Math.min(kh, spec.height), Math.min(kw, spec.width)];
    const step = Math.max(1, num(input.params, 'min_inspection_step', 16));
    const { oh, ow } = grid(spec, window, step);
    const cells = oh * ow;

    const learner: Learner<Float32Array, LocalModel> = {
      async prepare(tensors, report) {
        const out = await runPerImage(statsModel(spec, window, step), tensors, [c, spec.height, spec.width], ['stats']);
        report(1);
        return out.stats!;
      },
      fit(items) {
        const n = items.length;
        const size = STATS * c * cells;
        const mean = new Float32Array(size);
        for (const t of items) for (let i = 0; i < size; i++) mean[i]! += t[i]! / n;
        const variance = new Float32Array(size);
        for (const t of items) for (let i = 0; i < size; i++) variance[i]! += (t[i]! - mean[i]!) ** 2 / Math.max(1, n - 1);
        const invStd = new Float32Array(size);
        for (let k = 0; k < STATS * c; k++) {
          let typical = 0;
          for (let p = 0; p < cells; p++) typical += variance[k * cells + p]! / cells;
          for (let p = 0; p < cells; p++) {
            const v = variance[k * cells + p]! + SPREAD_SHARE * typical + SPREAD_FLOOR ** 2;
            invStd[k * cells + p] = 1 / Math.sqrt(v);
          }
        }
        return { spec, window, step, mean, invStd };
      },
      build: buildLocalModel,
    };
    return trainWithHoldout(learner, input);
  },
};
