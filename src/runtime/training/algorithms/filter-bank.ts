import type { GraphBuilder } from '../../onnx/index.ts';
import { gaussian1d, pad2d } from '../../onnx/index.ts';
import { rng } from './random.ts';

/**
 * A fixed feature extractor that needs no pretrained weights: an opponent-colour transform, a
 * Gaussian-derivative filter bank (smoothed value, 1st and 2nd derivatives, signed and rectified)
 * at three octaves, and for the "large" model a layer of seeded random 5x5 filters with ReLU.
 * Every response is averaged over a local window and brought to one grid of stride `STRIDE`
 * (a patch descriptor per grid cell, PatchCore-style "locally aware" features).
 */

export const STRIDE = 4;

export interface FeatureSpec {
  /** Input channels (3 = RGB, 1 = gray). */
  channels: number;
  height: number;
  width: number;
  /** 0 = small (filter bank), 1 = large (+ random conv layer). */
  modelType: number;
}

export function featureGrid(spec: FeatureSpec): { h: number; w: number } {
  return { h: Math.ceil(spec.height / STRIDE), w: Math.ceil(spec.width / STRIDE) };
}

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
const OPPONENT = [0.299, 0.587, 0.114, 0.5, -0.5, 0, 0.25, 0.25, -0.5];

/**
 * Bank responses of one octave: smoothed opponent channels, and signed + rectified derivatives
 * of luminance (and, more coarsely, of the colour channels). Returns [N, F, h, w] at that octave.
 */
function octave(g: GraphBuilder, opp: string, c: number): { out: string; count: number } {
  const ks = derivativeKernels();
  const [smooth, ...derivs] = ks;
  // smoothing of every channel, derivatives of luminance: weights [c + 5, c, 5, 5]
  const outC = c + derivs.length;
  const w = new Float32Array(outC * c * 25);
  for (let k = 0; k < c; k++) w.set(smooth!, (k * c + k) * 25);
  derivs.forEach((d, j) => w.set(d.map((v) => v * 4), ((c + j) * c + 0) * 25)); // x4: derivative responses are small
  const padded = pad2d(g, opp, [2, 2, 2, 2]);
  const resp = g.op('Conv', [padded, g.constant(w, [outC, c, 5, 5])]);
  const derivsOnly = g.op('Slice', [resp, g.constantInt64([c]), g.constantInt64([outC]), g.constantInt64([1])]);
  const rect = g.op('Abs', [derivsOnly]);
  return { out: g.op('Concat', [resp, rect], { axis: 1 }), count: outC + derivs.length };
}

/** Seeded zero-mean random 5x5 filters with ReLU: a cheap texture descriptor. */
function randomLayer(g: GraphBuilder, opp: string, c: number, filters: number, seed: number): string {
  const r = rng(seed);
  const w = new Float32Array(filters * c * 25);
  for (let f = 0; f < filters; f++) {
    let sum = 0;
    const base = f * c * 25;
    for (let i = 0; i < c * 25; i++) sum += w[base + i] = r() * 2 - 1;
    let norm = 0;
    for (let i = 0; i < c * 25; i++) norm += (w[base + i]! -= sum / (c * 25)) ** 2;
    for (let i = 0; i < c * 25; i++) w[base + i]! /= Math.sqrt(norm) / 2;
  }
  const padded = pad2d(g, opp, [2, 2, 2, 2]);
  return g.op('Relu', [g.op('Conv', [padded, g.constant(w, [filters, c, 5, 5])])]);
}

/**
 * Pools [N, F, H/s, W/s] (an octave at scale s) onto the feature grid (stride STRIDE of the input)
 * with a window twice the cell, so neighbouring descriptors overlap.
 */
function toGrid(g: GraphBuilder, x: string, scale: number): string {
  const step = STRIDE / scale;
  if (step === 1) return g.op('AveragePool', [x], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], count_include_pad: 0 });
  if (step >= 2) {
    const k = 2 * step;
    return g.op('AveragePool', [x], { kernel_shape: [k, k], strides: [step, step], pads: [step / 2, step / 2, step / 2, step / 2], count_include_pad: 0 });
  }
  throw new Error('octave coarser than the feature grid');
}

/** Adds the extractor to the graph; returns the [N, D, h, w] features and D. */
export function buildFeatures(g: GraphBuilder, x: string, spec: FeatureSpec): { features: string; dims: number } {
  const c = spec.channels;
  const opp = c === 3 ? g.op('Conv', [x, g.constant(OPPONENT, [3, 3, 1, 1])]) : x;
  const parts: string[] = [];
  let dims = 0;
  let level = opp;
  for (let o = 0; o < 3; o++) {
    const scale = 2 ** o;
    if (o > 0) level = g.op('AveragePool', [level], { kernel_shape: [2, 2], strides: [2, 2] });
    const { out, count } = octave(g, level, c);
    parts.push(toGrid(g, out, scale));
    dims += count;
    if (spec.modelType >= 1 && o < 2) {
      const filters = 16;
      parts.push(toGrid(g, randomLayer(g, level, c, filters, 1000 + o), scale));
      dims += filters;
    }
  }
  return { features: g.op('Concat', parts, { axis: 1 }), dims };
}
