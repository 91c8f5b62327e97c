import type { GraphBuilder } from '../../onnx/index.ts';
import { gaussian1d, pad2d } from '../../onnx/index.ts';

/**
 * A fixed feature extractor that needs no pretrained weights: an opponent-colour transform, a
 * Gaussian-derivative filter bank (smoothed value, 1st and 2nd derivatives, signed and rectified,
 * edge and ridge strength) per octave of an image pyramid (patch-sample.ts: three octaves, four
 * for the large model). Linear responses are averaged over a local window, rectified ones
 * max-pooled (a thin faint line survives), onto one grid of stride 4 input pixels (a patch
 * descriptor per grid cell, PatchCore-style "locally aware" features). (Seeded random conv layers
 * were tried as well and made the results worse.)
 */

/** Feature grid stride (input pixels): one patch descriptor per 4x4 cell. */
export const STRIDE = 4;

/** Gaussian derivative kernels (sigma 1, 5x5): smooth, dx, dy, dxx, dyy, dxy. */
function derivativeKernels(): Float32Array[] {
  const r = 2;
  const s = 1;
  const g = gaussian1d(s, r);
  const size = 2 * r + 1;
  const k = (f: (x: number, y: number) => number) => {
    const out = new Float32Array(size * size);
    for (let y = -r; y <= r; y++) for (let x = -r; x <= r; x++) out[(y + r) * size + x + r] = f(x, y);
    return out;
  };
  const G = (x: number, y: number) => g[x + r]! * g[y + r]!;
  const zeroMean = (a: Float32Array) => {
    const m = a.reduce((p, v) => p + v, 0) / a.length;
    return a.map((v) => v - m);
  };
  return [
    k(G),
    k((x, y) => (-x / (s * s)) * G(x, y)),
    k((x, y) => (-y / (s * s)) * G(x, y)),
    zeroMean(k((x, y) => ((x * x) / s ** 4 - 1 / (s * s)) * G(x, y))),
    zeroMean(k((x, y) => ((y * y) / s ** 4 - 1 / (s * s)) * G(x, y))),
    k((x, y) => ((x * y) / s ** 4) * G(x, y)),
  ];
}

/** RGB -> luminance, red-green, yellow-blue (1x1 conv weights [3,3,1,1]). */
export const OPPONENT = [0.299, 0.587, 0.114, 0.5, -0.5, 0, 0.25, 0.25, -0.5];

/**
 * Bank responses of one octave: smoothed opponent channels, and signed + rectified derivatives
 * of luminance (and, more coarsely, of the colour channels). Returns [N, F, h, w] at that octave.
 */
export function octave(g: GraphBuilder, opp: string, c: number): { linear: string; rectified: string; count: number } {
  const ks = derivativeKernels();
  const [smooth, ...derivs] = ks;
  // smoothing of every channel, derivatives of luminance: weights [c + 5, c, 5, 5]
  const outC = c + derivs.length;
  const w = new Float32Array(outC * c * 25);
  for (let k = 0; k < c; k++) w.set(smooth!, (k * c + k) * 25);
  derivs.forEach((d, j) =>
    w.set(
      d.map((v) => v * 4),
      ((c + j) * c + 0) * 25,
    ),
  ); // x4: derivative responses are small
  const padded = pad2d(g, opp, [2, 2, 2, 2]);
  const resp = g.op('Conv', [padded, g.constant(w, [outC, c, 5, 5])]);
  const derivsOnly = g.op('Slice', [resp, g.constantInt64([c]), g.constantInt64([outC]), g.constantInt64([1])]);
  const ch = (i: number) => g.op('Slice', [resp, g.constantInt64([c + i]), g.constantInt64([c + i + 1]), g.constantInt64([1])]);
  const [dx, dy, dxx, dyy, dxy] = [0, 1, 2, 3, 4].map(ch) as [string, string, string, string, string];
  const sq = (a: string) => g.op('Mul', [a, a]);
  // rotation-invariant edge strength |grad| and ridge (line) strength, the largest |Hessian
  // eigenvalue|: a thin scratch at any angle shows in one channel
  const edge = g.op('Sqrt', [g.op('Add', [g.op('Add', [sq(dx), sq(dy)]), g.scalar(1e-6)])]);
  const half = g.op('Mul', [g.op('Sub', [dxx, dyy]), g.scalar(0.5)]);
  const ridge = g.op('Add', [
    g.op('Sqrt', [g.op('Add', [g.op('Add', [sq(half), sq(dxy)]), g.scalar(1e-6)])]),
    g.op('Abs', [g.op('Mul', [g.op('Add', [dxx, dyy]), g.scalar(0.5)])]),
  ]);
  const rectified = g.op('Concat', [g.op('Abs', [derivsOnly]), edge, ridge], { axis: 1 });
  return { linear: resp, rectified, count: outC + derivs.length + 2 };
}

/**
 * Pools [N, F, H/s, W/s] (an octave at scale s) onto the feature grid (stride STRIDE of the input)
 * with a window twice the cell, so neighbouring descriptors overlap.
 */
export function toGrid(g: GraphBuilder, x: string, scale: number, stride: number, pool: 'AveragePool' | 'MaxPool' = 'AveragePool'): string {
  const step = stride / scale;
  const extra = pool === 'AveragePool' ? { count_include_pad: 0 } : {};
  if (step < 1) {
    // an octave coarser than the grid: pooled at its own resolution, then interpolated up
    const pooled = g.op(pool, [x], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], ...extra });
    const up = 1 / step;
    return g.op('Resize', [pooled, '', g.constant([1, 1, up, up], [4])], { mode: 'linear' });
  }
  if (step === 1) return g.op(pool, [x], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], ...extra });
  if (step >= 2) {
    const k = 2 * step;
    return g.op(pool, [x], { kernel_shape: [k, k], strides: [step, step], pads: [step / 2, step / 2, step / 2, step / 2], ...extra });
  }
  throw new Error(`no pooling for step ${step}`);
}
