import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { GraphBuilder } from '../../onnx/index.ts';
import { pad2d } from '../../onnx/index.ts';
import { meanAndCovariance } from '../linalg.ts';
import { rng } from './random.ts';

/**
 * A filter bank learnt from the user's own OK pictures (no pretrained weights): at each level
 * of an image pyramid, the principal components of k x k colour patches, whitened, are the
 * filters (PCANet's first stage; Coates and Ng showed such data-adapted single-layer filters
 * rival much deeper hand-designed features). A filter's response is how much of "a typical
 * variation of this surface" a patch holds; the responses and their magnitudes, pooled onto
 * a grid, describe each cell of the picture in the surface's own terms. Defects show as
 * combinations of responses the OK pictures never had.
 */

export interface LearnedBank {
  channels: number;
  kernel: number;
  /** Filters per level (k components each), row-major [k, channels, kernel, kernel]. */
  filters: Float32Array[];
  biases: Float32Array[];
  components: number;
}

export interface LearnOptions {
  channels: number;
  width: number;
  height: number;
  kernel: number;
  components: number;
  levels: number;
  /** Patches sampled per level. */
  samples: number;
  seed?: number;
}

/** 2x2 block average of a CHW tensor (one pyramid level down). */
function halve(t: Float32Array, c: number, h: number, w: number): Float32Array {
  const h2 = h >> 1;
  const w2 = w >> 1;
  const out = new Float32Array(c * h2 * w2);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h2; y++)
      for (let x = 0; x < w2; x++) {
        const o = ch * h * w + 2 * y * w + 2 * x;
        out[ch * h2 * w2 + y * w2 + x] = 0.25 * (t[o]! + t[o + 1]! + t[o + w]! + t[o + w + 1]!);
      }
  return out;
}

/** Learns the bank from OK tensors (C x H x W, 0..1). */
export async function learnBank(tensors: readonly Float32Array[], o: LearnOptions): Promise<LearnedBank> {
  const r = rng(o.seed ?? 3);
  const k = o.kernel;
  const dim = o.channels * k * k;
  const filters: Float32Array[] = [];
  const biases: Float32Array[] = [];
  let levelImages = tensors.slice();
  let h = o.height;
  let w = o.width;
  for (let level = 0; level < o.levels; level++) {
    if (level > 0) {
      levelImages = levelImages.map((t) => halve(t, o.channels, h, w));
      h >>= 1;
      w >>= 1;
    }
    const n = o.samples;
    const rows = new Float32Array(n * dim);
    for (let s = 0; s < n; s++) {
      const img = levelImages[Math.floor(r() * levelImages.length)]!;
      const y0 = Math.floor(r() * (h - k + 1));
      const x0 = Math.floor(r() * (w - k + 1));
      let p = s * dim;
      for (let ch = 0; ch < o.channels; ch++) for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) rows[p++] = img[ch * h * w + (y0 + y) * w + x0 + x]!;
    }
    const { mean, cov } = await meanAndCovariance(rows, n, dim);
    const C = new Matrix(dim, dim);
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) C.set(i, j, (cov[i * dim + j]! + cov[j * dim + i]!) / 2);
    const evd = new EigenvalueDecomposition(C, { assumeSymmetric: true });
    const values = evd.realEigenvalues;
    const order = values.map((_, i) => i).sort((a, b) => values[b]! - values[a]!);
    const m = Math.min(o.components, dim);
    // whitening with a floor: the weak components (sensor noise) are not blown up to unit size
    const floor = 0.01 * values[order[0]!]! + 1e-6;
    const f = new Float32Array(m * dim);
    const b = new Float32Array(m);
    for (let c = 0; c < m; c++) {
      const idx = order[c]!;
      const scale = 1 / Math.sqrt(Math.max(values[idx]!, 0) + floor);
      let dot = 0;
      for (let j = 0; j < dim; j++) {
        const v = evd.eigenvectorMatrix.get(j, idx) * scale;
        f[c * dim + j] = v;
        dot += v * mean[j]!;
      }
      b[c] = -dot;
    }
    filters.push(f);
    biases.push(b);
  }
  return { channels: o.channels, kernel: k, filters, biases, components: Math.min(o.components, dim) };
}

/** Pools an octave's responses (scale s = 2^level) onto the grid of stride `stride` input pixels. */
function toGrid(g: GraphBuilder, x: string, scale: number, stride: number, pool: 'AveragePool' | 'MaxPool'): string {
  const step = stride / scale;
  const extra = pool === 'AveragePool' ? { count_include_pad: 0 } : {};
  if (step < 1) {
    const pooled = g.op(pool, [x], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], ...extra });
    return g.op('Resize', [pooled, '', g.constant([1, 1, 1 / step, 1 / step], [4])], { mode: 'linear' });
  }
  if (step === 1) return g.op(pool, [x], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], ...extra });
  const kk = 2 * step;
  return g.op(pool, [x], { kernel_shape: [kk, kk], strides: [step, step], pads: [step / 2, step / 2, step / 2, step / 2], ...extra });
}

/** Adds the learnt extractor to the graph: [N, D, H/stride, W/stride] features and D. */
export function buildLearnedFeatures(g: GraphBuilder, x: string, bank: LearnedBank, stride: number): { features: string; dims: number } {
  const k = bank.kernel;
  const half = k >> 1;
  const parts: string[] = [];
  let level = x;
  bank.filters.forEach((f, l) => {
    if (l > 0) level = g.op('AveragePool', [level], { kernel_shape: [2, 2], strides: [2, 2] });
    const z = g.op('Conv', [pad2d(g, level, [half, half, half, half]), g.constant(f, [bank.components, bank.channels, k, k]), g.constant(bank.biases[l]!, [bank.components])]);
    // the response averaged (what the surface holds here) and its largest magnitude in the
    // window (a thin faint scratch survives, an average would dilute it)
    parts.push(toGrid(g, z, 2 ** l, stride, 'AveragePool'), toGrid(g, g.op('Abs', [z]), 2 ** l, stride, 'MaxPool'));
  });
  return { features: g.op('Concat', parts, { axis: 1 }), dims: 2 * bank.components * bank.filters.length };
}
