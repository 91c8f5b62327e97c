import { ColorMode, type InputSpec } from '../../onnx/contract.ts';
import { GraphBuilder, blur, mapAndScore } from '../../onnx/index.ts';
import { runPerImage } from '../ort.ts';
import { type Learner, checkAborted, trainWithHoldout } from '../pipeline.ts';
import { DataType, commonParameters, num, pair, param } from './params.ts';
import type { Algorithm, ParamValues } from './types.ts';

/**
 * Pattern Matching: a golden image for aligned parts.
 *
 * Model: after a light blur and a per-image brightness normalisation, every pixel of an OK
 * picture is expected near the per-position mean with the per-position spread seen in the OK
 * pictures. The map is the mean squared z-score over a window (min_inspection_size, moved by
 * min_inspection_step); each pixel is compared with the golden image shifted by up to
 * `position_tolerance` pixels and the best match kept, so a part placed a pixel off does not
 * light up its edges. Everything runs in the graph: blur, normalisation, z-scores for each
 * shift, min over shifts, window mean, max for the score.
 */

const BLUR_SIGMA = 1;
/** Spread never below this (0..1 units): a pixel that never changed still has sensor noise. */
const SIGMA_FLOOR = 0.012;

export const patternMatchingDefinition = {
  id: 'pattern-matching',
  name: 'Pattern Matching',
  version: '1.0.0',
  type: 'anomaly-detection',
  attribute: 'aligned',
  description:
    'Golden image: per-position mean and spread of the OK pictures; flags pixels far from them. Pictures must be aligned and of one size. Learns from OK pictures only.',
  parameters: [
    param('min_inspection_size', DataType.INT2, '16,16', ['1,1', '128,128'], 'Inspection window (h,w)'),
    param('min_inspection_step', DataType.INT, '4', ['1', '64'], 'Inspection step'),
    param('position_tolerance', DataType.INT, '1', ['0', '3'], 'Position tolerance (pixels)'),
    param('normalize_brightness', DataType.BOOL, 'true', [null, null], 'Normalise brightness per picture'),
    ...commonParameters(),
  ],
};

export interface GoldenModel {
  spec: InputSpec;
  /** Per channel mean brightness of the OK pictures (normalisation target). */
  brightness: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  window: [number, number];
  step: number;
  tolerance: number;
  normalize: boolean;
}

const channels = (spec: InputSpec) => (spec.color === ColorMode.RGB ? 3 : 1);

/**
 * Blur + brightness normalisation (each picture scaled to the OK pictures' mean brightness per
 * channel). With a golden image the scale is estimated robustly: a second pass uses only the
 * pixels that the first estimate puts within 3 spreads of the golden image, so a large defect
 * does not rescale (and light up) the whole part.
 */
function preprocess(
  g: GraphBuilder,
  x: string,
  spec: InputSpec,
  brightness: Float32Array | null,
  golden?: { mean: Float32Array; invStd: Float32Array },
): string {
  const c = channels(spec);
  const { height: H, width: W } = spec;
  const y = blur(g, x, c, BLUR_SIGMA);
  if (!brightness) return y;
  const m = g.op('ReduceMean', [y], { axes: [2, 3], keepdims: 1 });
  const ratio = g.op('Div', [g.constant(brightness, [1, c, 1, 1]), g.op('Max', [m, g.scalar(1e-3)])]);
  if (!golden) return g.op('Mul', [y, ratio]);
  const mu = g.constant(golden.mean, [1, c, H, W]);
  const first = g.op('Mul', [y, ratio]);
  const dev = g.op('Abs', [g.op('Mul', [g.op('Sub', [first, mu]), g.constant(golden.invStd, [1, c, H, W])])]);
  const inlier = g.op('Cast', [g.op('Less', [dev, g.scalar(3)])], { to: 1 });
  const num = g.op('ReduceSum', [g.op('Mul', [inlier, mu]), g.constantInt64([2, 3])], { keepdims: 1 });
  const den = g.op('ReduceSum', [g.op('Mul', [inlier, y]), g.constantInt64([2, 3])], { keepdims: 1 });
  // too few inliers (a picture of something else): keep the first estimate
  const count = g.op('ReduceSum', [inlier, g.constantInt64([2, 3])], { keepdims: 1 });
  const robust = g.op('Div', [num, g.op('Max', [den, g.scalar(1e-3)])]);
  const enough = g.op('Greater', [count, g.scalar(0.2 * H * W)]);
  return g.op('Mul', [y, g.op('Where', [enough, robust, ratio])]);
}

function preprocessModel(spec: InputSpec, brightness: Float32Array | null): Uint8Array {
  const g = new GraphBuilder('pattern-matching-preprocess');
  const x = g.input('images', ['N', channels(spec), spec.height, spec.width]);
  g.output(preprocess(g, x, spec, brightness), 'pre', ['N', channels(spec), spec.height, spec.width]);
  return g.toBytes();
}

/** Shifts a C x H x W array by (dy, dx), repeating the edge. */
function shifted(a: Float32Array, c: number, h: number, w: number, dy: number, dx: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let k = 0; k < c; k++)
    for (let y = 0; y < h; y++) {
      const sy = Math.min(h - 1, Math.max(0, y - dy));
      for (let x = 0; x < w; x++) out[(k * h + y) * w + x] = a[(k * h + sy) * w + Math.min(w - 1, Math.max(0, x - dx))]!;
    }
  return out;
}

/** Mean of a C x H x W array over a (2r+1)^2 box per channel (edges clamped). */
function boxMean(a: Float32Array, c: number, h: number, w: number, r: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let k = 0; k < c; k++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let s = 0;
        let n = 0;
        for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++)
          for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) {
            s += a[(k * h + yy) * w + xx]!;
            n++;
          }
        out[(k * h + y) * w + x] = s / n;
      }
  return out;
}

export function buildGoldenModel(m: GoldenModel): Uint8Array {
  const { spec } = m;
  const c = channels(spec);
  const { height: H, width: W } = spec;
  const g = new GraphBuilder('pattern-matching');
  const x = g.input('images', ['N', c, H, W]);
  const invStd = m.variance.map((v) => 1 / Math.sqrt(v));
  const pre = preprocess(g, x, spec, m.normalize ? m.brightness : null, { mean: m.mean, invStd });

  const shifts: [number, number][] = [];
  for (let dy = -m.tolerance; dy <= m.tolerance; dy++) for (let dx = -m.tolerance; dx <= m.tolerance; dx++) shifts.push([dy, dx]);
  const S = shifts.length;
  const mu = new Float32Array(S * c * H * W);
  const inv = new Float32Array(S * c * H * W);
  shifts.forEach(([dy, dx], s) => {
    mu.set(shifted(m.mean, c, H, W, dy, dx), s * c * H * W);
    inv.set(shifted(invStd, c, H, W, dy, dx), s * c * H * W);
  });
  const tiled =
    S > 1
      ? g.op(
          'Concat',
          Array.from({ length: S }, () => pre),
          { axis: 1 },
        )
      : pre;
  const z = g.op('Mul', [g.op('Sub', [tiled, g.constant(mu, [1, S * c, H, W])]), g.constant(inv, [1, S * c, H, W])]);
  const z2 = g.op('Reshape', [g.op('Mul', [z, z]), g.constantInt64([0, S, c, H, W])]);
  const perShift = g.op('ReduceSum', [z2, g.constantInt64([2])], { keepdims: 0 });
  const best = g.op('Mul', [g.op('ReduceMin', [perShift], { axes: [1], keepdims: 1 }), g.scalar(1 / c)]);

  const [kh, kw] = m.window;
  const s = m.step;
  // pad so that the windows are centred on the map cells and cover the whole picture
  const oh = Math.ceil(H / s);
  const ow = Math.ceil(W / s);
  const ph = Math.max(0, (oh - 1) * s + kh - H);
  const pw = Math.max(0, (ow - 1) * s + kw - W);
  const pads = [Math.floor(ph / 2), Math.floor(pw / 2), ph - Math.floor(ph / 2), pw - Math.floor(pw / 2)];
  const map = g.op('AveragePool', [best], { kernel_shape: [kh, kw], strides: [s, s], pads, count_include_pad: 0 });
  mapAndScore(g, map, oh, ow);
  return g.toBytes({ algorithm: 'pattern-matching' });
}

function inputSpec(params: ParamValues): InputSpec {
  const size = num(params, 'input_size', 128);
  return { width: size, height: size, color: ColorMode.RGB, resize: 'fill', anomalyRange: [0, 1] };
}

export const patternMatching: Algorithm = {
  definition: patternMatchingDefinition,
  inputSpec,
  async train(input) {
    const spec = input.spec;
    const c = channels(spec);
    const { height: H, width: W } = spec;
    const [kh, kw] = pair(input.params, 'min_inspection_size', [16, 16]);
    const normalize = !/^(false|0)$/i.test(input.params.normalize_brightness ?? 'true');
    const settings = {
      window: [Math.min(kh, H), Math.min(kw, W)] as [number, number],
      step: num(input.params, 'min_inspection_step', 4),
      tolerance: num(input.params, 'position_tolerance', 1),
      normalize,
    };

    const learner: Learner<Float32Array, GoldenModel> = {
      async prepare(tensors, report, signal) {
        // brightness target = mean over all OK pictures; the normalisation itself runs in the graph
        const blurred = (await runPerImage(preprocessModel(spec, null), tensors, [c, H, W], ['pre'])).pre!;
        checkAborted(signal);
        report(0.5);
        if (!normalize) return blurred;
        const brightness = channelMeans(blurred, c);
        const out = (await runPerImage(preprocessModel(spec, brightness), tensors, [c, H, W], ['pre'])).pre!;
        report(1);
        return out;
      },
      fit(items) {
        const n = items.length;
        const mean = new Float32Array(c * H * W);
        for (const t of items) for (let i = 0; i < mean.length; i++) mean[i]! += t[i]! / n;
        const raw = new Float32Array(c * H * W);
        for (const t of items) for (let i = 0; i < raw.length; i++) raw[i]! += (t[i]! - mean[i]!) ** 2 / Math.max(1, n - 1);
        // few pictures give a noisy spread: blend it with its neighbourhood and keep a floor
        const local = boxMean(raw, c, H, W, 2);
        const variance = raw.map((v, i) => 0.5 * v + 0.5 * local[i]! + SIGMA_FLOOR ** 2);
        return { spec, brightness: channelMeans(items, c), mean, variance, ...settings };
      },
      build: buildGoldenModel,
    };
    const out = await trainWithHoldout(learner, input);
    return { ...out, representative: out.model.mean };
  },
};

function channelMeans(tensors: readonly Float32Array[], c: number): Float32Array {
  const plane = tensors[0]!.length / c;
  const out = new Float32Array(c);
  for (const t of tensors) for (let k = 0; k < c; k++) for (let i = 0; i < plane; i++) out[k]! += t[k * plane + i]! / (plane * tensors.length);
  return out;
}
