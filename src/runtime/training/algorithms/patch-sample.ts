import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { ColorMode, type InputSpec } from '../../onnx/contract.ts';
import { GraphBuilder, blur, mapAndScore } from '../../onnx/index.ts';
import { meanAndCovariance } from '../linalg.ts';
import { runOnce, runPerImage } from '../ort.ts';
import { type Learner, checkAborted, folds, trainWithHoldout } from '../pipeline.ts';
import { greedyCoreset } from './coreset.ts';
import { OPPONENT, STRIDE, octave, toGrid } from './filter-bank.ts';
import { DataType, commonParameters, num, param } from './params.ts';
import { rng } from './random.ts';
import type { Algorithm, ParamValues } from './types.ts';

/**
 * Patch Sample Inspection 2: PatchCore without pretrained weights, one memory bank per scale.
 *
 * A fixed filter bank (filter-bank.ts: opponent colour, Gaussian derivatives, edge and ridge
 * strength) describes every 4x4 cell of the picture at each octave of an image pyramid (3
 * octaves, 4 for the large model). Each octave keeps its own memory bank of whitened OK
 * descriptors (greedy k-center coreset) and its own nearest-neighbour distance map, in units of
 * that octave's own held-out OK distances (the 99th percentile). The map is the largest of the
 * octaves': a thin scratch that only the finest octave sees, or a large faint stain that only the
 * coarsest sees, is not diluted by the other scales' ordinary variation (measured on the real
 * photographs of bench:quality: one joint bank of all octaves did worse on every texture).
 * The map is then read at three smoothing widths (1, 2 and 4 cells), each divided by the typical
 * maximum of held-out OK maps at that width, and the largest is kept: a large faint defect rises
 * above the OK pictures' fluctuations only once smoothed, a small sharp one only unsmoothed.
 * The score is the map's maximum, so map and score mean the same (BAD boxes are where the score is).
 * No position enters the descriptor: parts may move and turn; textures work as well.
 */

export const patchSampleDefinition = {
  id: 'patch-sample',
  name: 'Patch Sample Inspection',
  version: '2.0.0',
  type: 'anomaly-detection',
  attribute: 'position-tolerant',
  description:
    'Nearest-neighbour distance of each patch to a memory bank of OK patches, one bank per scale. Tolerates different placement and rotation; suits textures and parts that move. Learns from OK pictures only.',
  parameters: [
    param('model_type', DataType.INT, '0', ['0', '1'], 'Model type (0: three scales, 1: four scales, larger defects)'),
    param('num_features', DataType.INT, '150', ['10', '2000'], `Memory-bank entries per OK picture and scale (${4096} at most per scale)`),
    ...commonParameters().map((p) => (p.name === 'input_size' ? { ...p, value: '256' } : p)),
  ],
};

/** One scale's memory: descriptor -> whitened space (z = projection (f - mean)), bank in z. */
export interface ScaleMemory {
  dims: number;
  mean: Float32Array;
  /** Row-major dims x dims. */
  projection: Float32Array;
  /** Row-major entries x dims. */
  bank: Float32Array;
  entries: number;
  /** Which training picture each bank entry came from (held-out scoring removes them). */
  owner: Int32Array;
  /** The 99th percentile of held-out OK distances at this scale: the map's unit. */
  unit: number;
}

export interface PatchModel {
  spec: InputSpec;
  octaves: number;
  scales: ScaleMemory[];
  /** Typical held-out OK map maximum at each smoothing width (SIGMAS). */
  sigmaUnits: number[];
}

const MAX_BANK = 4096;
/** Candidates the coreset picks from (a random subset when there are more): bounds training time. */
const CANDIDATES = 32768;
/** Smoothing widths (map cells) of the read-out. */
export const SIGMAS = [1, 2, 4];
const UNIT_QUANTILE = 0.99;
/** A place's own unit is never below this share of the map's (cellUnits). */
const CELL_FLOOR = 0.5;
/** Regularisation of the whitening: eigenvalues get this share of their mean added. */
const SHRINK = 0.3;

export const channels = (spec: InputSpec) => (spec.color === ColorMode.RGB ? 3 : 1);
export const octavesOf = (modelType: number) => (modelType >= 1 ? 4 : 3);
export const gridOf = (spec: InputSpec) => ({ h: Math.ceil(spec.height / STRIDE), w: Math.ceil(spec.width / STRIDE) });

/** Per-octave descriptors [N, D_o, h, w] of the pictures. */
export function addFeatures(g: GraphBuilder, x: string, spec: InputSpec, octaves: number): { value: string; dims: number }[] {
  const c = channels(spec);
  let level = c === 3 ? g.op('Conv', [x, g.constant(OPPONENT, [3, 3, 1, 1])]) : x;
  const out: { value: string; dims: number }[] = [];
  for (let o = 0; o < octaves; o++) {
    if (o > 0) level = g.op('AveragePool', [level], { kernel_shape: [2, 2], strides: [2, 2] });
    const { linear, rectified, count } = octave(g, level, c);
    // strongest edge/line response in the window: a thin faint scratch survives, an average would dilute it
    out.push({ value: g.op('Concat', [toGrid(g, linear, 2 ** o, STRIDE), toGrid(g, rectified, 2 ** o, STRIDE, 'MaxPool')], { axis: 1 }), dims: count });
  }
  return out;
}

export function featureModel(spec: InputSpec, octaves: number): { bytes: Uint8Array; dims: number[] } {
  const g = new GraphBuilder('patch-sample-features');
  const x = g.input('images', ['N', channels(spec), spec.height, spec.width]);
  const { h, w } = gridOf(spec);
  const feats = addFeatures(g, x, spec, octaves);
  feats.forEach((f, o) => g.output(f.value, `f${o}`, ['N', f.dims, h, w]));
  return { bytes: g.toBytes(), dims: feats.map((f) => f.dims) };
}

/** Every picture's descriptor maps, one per octave (D_o x cells each), and the D_o. */
export async function octaveDescriptors(tensors: Float32Array[], spec: InputSpec, octaves: number): Promise<{ dims: number[]; items: Float32Array[][] }> {
  const ex = featureModel(spec, octaves);
  const out = await runPerImage(
    ex.bytes,
    tensors,
    [channels(spec), spec.height, spec.width],
    ex.dims.map((_, o) => `f${o}`),
  );
  return { dims: ex.dims, items: tensors.map((_, i) => ex.dims.map((_, o) => out[`f${o}`]![i]!)) };
}

/** Nearest-bank-entry distance of each cell, [N, 1, h, w], as one 1x1 Conv + ReduceMin. */
function addDistance(g: GraphBuilder, features: string, m: Pick<ScaleMemory, 'dims' | 'mean' | 'projection' | 'bank' | 'entries'>): string {
  const d = m.dims;
  const bias = new Float32Array(d);
  for (let k = 0; k < d; k++) for (let j = 0; j < d; j++) bias[k]! -= m.projection[k * d + j]! * m.mean[j]!;
  const z = g.op('Conv', [features, g.constant(m.projection, [d, d, 1, 1]), g.constant(bias, [d])]);
  const norms = new Float32Array(m.entries);
  for (let e = 0; e < m.entries; e++) for (let k = 0; k < d; k++) norms[e]! += m.bank[e * d + k]! ** 2;
  const cross = g.op('Conv', [
    z,
    g.constant(
      m.bank.map((v) => -2 * v),
      [m.entries, d, 1, 1],
    ),
    g.constant(norms, [m.entries]),
  ]);
  const nearest = g.op('ReduceMin', [cross], { axes: [1], keepdims: 1 });
  const self = g.op('ReduceSum', [g.op('Mul', [z, z]), g.constantInt64([1])], { keepdims: 1 });
  // per-dimension RMS distance: comparable across scales and model types
  return g.op('Sqrt', [g.op('Mul', [g.op('Relu', [g.op('Add', [nearest, self])]), g.scalar(1 / d)])]);
}

/**
 * The scales' distance maps, each in its own unit, combined by their maximum (before smoothing).
 * A unit is one number for the whole map, or one per cell ([h * w], row-major: a place's own).
 */
export function addCombined(g: GraphBuilder, distances: string[], units: (number | Float32Array)[], h = 0, w = 0): string {
  const scaled = distances.map((d, o) => {
    const u = units[o]!;
    return g.op('Mul', [
      d,
      typeof u === 'number'
        ? g.scalar(1 / u)
        : g.constant(
            u.map((v) => 1 / v),
            [1, 1, h, w],
          ),
    ]);
  });
  return scaled.length === 1 ? scaled[0]! : g.op('Max', scaled);
}

/** The read-out: the combined map smoothed at each width, in units of OK maxima, largest kept. */
export function addReadout(g: GraphBuilder, combined: string, sigmaUnits: number[]): string {
  const reads = SIGMAS.map((s, i) => g.op('Mul', [blur(g, combined, 1, s), g.scalar(1 / sigmaUnits[i]!)]));
  return g.op('Max', reads);
}

export function buildPatchModel(m: PatchModel): Uint8Array {
  const { h, w } = gridOf(m.spec);
  const g = new GraphBuilder('patch-sample');
  const x = g.input('images', ['N', channels(m.spec), m.spec.height, m.spec.width]);
  const feats = addFeatures(g, x, m.spec, m.octaves);
  feats.forEach((f, o) => {
    if (f.dims !== m.scales[o]!.dims) throw new Error(`octave ${o}: feature size ${f.dims} differs from the trained ${m.scales[o]!.dims}`);
  });
  const distances = feats.map((f, o) => addDistance(g, f.value, m.scales[o]!));
  const map = addReadout(
    g,
    addCombined(
      g,
      distances,
      m.scales.map((s) => s.unit),
    ),
    m.sigmaUnits,
  );
  mapAndScore(g, map, h, w);
  return g.toBytes({ algorithm: 'patch-sample' });
}

/** Raw distance maps of one scale for descriptors given as input (calibration). */
function distanceModel(m: ScaleMemory, h: number, w: number): Uint8Array {
  const g = new GraphBuilder('patch-sample-distance');
  const f = g.input('f', ['N', m.dims, h, w]);
  g.output(addDistance(g, f, m), 'd', ['N', 1, h, w]);
  return g.toBytes();
}

export function inputSpec(params: ParamValues): InputSpec {
  // multiples of 32: four octaves on a stride-4 grid
  const size = Math.max(64, Math.round(num(params, 'input_size', 256) / 32) * 32);
  return { width: size, height: size, color: ColorMode.RGB, resize: 'fill', anomalyRange: [0, 1] };
}

/** A bank without the entries that came from some pictures (a held-out fold). */
function without(m: ScaleMemory, heldOut: ReadonlySet<number>): ScaleMemory {
  const keep: number[] = [];
  m.owner.forEach((o, e) => heldOut.has(o) || keep.push(e));
  const bank = new Float32Array(keep.length * m.dims);
  keep.forEach((e, i) => bank.set(m.bank.subarray(e * m.dims, (e + 1) * m.dims), i * m.dims));
  return { ...m, bank, entries: keep.length, owner: Int32Array.from(keep, (e) => m.owner[e]!) };
}

export const patchSample: Algorithm = {
  definition: patchSampleDefinition,
  inputSpec,
  async train(input) {
    const spec = input.spec;
    const octaves = octavesOf(num(input.params, 'model_type', 0));
    // per picture, not per tile: a tiled picture's tiles share its budget
    const pictures = input.okGroups ? new Set(input.okGroups).size : input.ok.length;
    const perImage = (num(input.params, 'num_features', 150) * pictures) / input.ok.length;
    const { h, w } = gridOf(spec);
    const cells = h * w;
    let dims: number[] = [];

    /** Per picture: one descriptor map (D_o x cells) per octave. */
    const learner: Learner<Float32Array[], PatchModel> = {
      async prepare(tensors, report) {
        const ex = await octaveDescriptors(tensors, spec, octaves);
        dims = ex.dims;
        report(1);
        return ex.items;
      },
      async fit(items, report, signal) {
        const scales: ScaleMemory[] = [];
        for (let o = 0; o < octaves; o++) {
          const span = (f: number) => report((o + 0.8 * f) / (octaves + 1), `memory bank, scale ${o + 1}/${octaves}`);
          span(0);
          scales.push(
            await memory(
              items.map((it) => it[o]!),
              dims[o]!,
              cells,
              Math.round(perImage * items.length),
              span,
              signal,
            ),
          );
          checkAborted(signal);
        }
        report(octaves / (octaves + 1), 'calibration');
        const sigmaUnits = await calibrate(scales, items, h, w, signal, (s, held) => distanceModel(without(s, held), h, w));
        return { spec, octaves, scales, sigmaUnits };
      },
      build: buildPatchModel,
      folds: 10,
      derive: (model, heldOut) => ({ ...model, scales: model.scales.map((s) => without(s, heldOut)) }),
    };
    return trainWithHoldout(learner, input);
  },
};

/**
 * Every picture's descriptors at one scale (each D x cells) as whitened rows (cells of all
 * pictures, row-major n x D), with the whitening (mean, projection) that made them.
 */
export async function whitenedRows(
  maps: Float32Array[],
  d: number,
  cells: number,
): Promise<{ rows: Float32Array; mean: Float32Array; projection: Float32Array }> {
  const n = maps.length * cells;
  const rows = new Float32Array(n * d);
  maps.forEach((f, i) => {
    for (let k = 0; k < d; k++) for (let c = 0; c < cells; c++) rows[(i * cells + c) * d + k] = f[k * cells + c]!;
  });
  const { mean, cov } = await meanAndCovariance(rows, n, d);
  const projection = whitening(cov, d);
  // whitened rows, in place
  const tmp = new Float32Array(d);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let k = 0; k < d; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += projection[k * d + j]! * (rows[o + j]! - mean[j]!);
      tmp[k] = s;
    }
    rows.set(tmp, o);
  }
  return { rows, mean, projection };
}

/** One scale's whitening and coreset bank from every picture's descriptors at that scale. */
async function memory(maps: Float32Array[], d: number, cells: number, want: number, report: (f: number) => void, signal: AbortSignal): Promise<ScaleMemory> {
  const n = maps.length * cells;
  const { rows, mean, projection } = await whitenedRows(maps, d, cells);
  checkAborted(signal);
  report(0.1);
  // the coreset picks from a random subset when there are many cells (every picture keeps its share)
  const pool = n > CANDIDATES ? sample(n, CANDIDATES) : null;
  const m = pool ? pool.length : n;
  const candidates = pool ? new Float32Array(m * d) : rows;
  if (pool) pool.forEach((row, i) => candidates.set(rows.subarray(row * d, (row + 1) * d), i * d));
  const entries = Math.min(m, want, MAX_BANK);
  const chosen = greedyCoreset(candidates, m, d, entries, { onStep: (f) => report(0.1 + 0.9 * f) });
  const bank = new Float32Array(entries * d);
  const owner = new Int32Array(entries);
  chosen.forEach((idx, e) => {
    bank.set(candidates.subarray(idx * d, (idx + 1) * d), e * d);
    owner[e] = Math.floor((pool ? pool[idx]! : idx) / cells);
  });
  return { dims: d, mean, projection, bank, entries, owner, unit: 1 };
}

function sample(n: number, k: number): Int32Array {
  const r = rng(29);
  const picked = new Int32Array(k);
  // every k-th cell with a random offset inside its stride: even cover of pictures and positions
  const step = n / k;
  for (let i = 0; i < k; i++) picked[i] = Math.min(n - 1, Math.floor(i * step + r() * step));
  return picked;
}

/**
 * Units from held-out pictures (5 folds, banks without the fold's entries): each scale's unit is
 * the 99th percentile of its held-out cell distances (with `perCell`, also each place's own:
 * cellUnits); then the combined map's maximum at each smoothing width, typical (median) over the
 * held-out pictures.
 */
export async function calibrate<S extends { dims: number; unit: number; cellUnits?: Float32Array }>(
  scales: S[],
  items: Float32Array[][],
  h: number,
  w: number,
  signal: AbortSignal,
  distanceBytes: (scale: S, heldOut: ReadonlySet<number>) => Uint8Array,
  perCell = false,
): Promise<number[]> {
  const k = Math.min(5, items.length);
  const perScale: Float32Array[][] = scales.map(() => []);
  for (const fold of folds(items.length, k)) {
    const held = new Set(fold);
    for (const [o, s] of scales.entries()) {
      const out = await runPerImage(
        distanceBytes(s, held),
        fold.map((i) => items[i]![o]!),
        [s.dims, h, w],
        ['d'],
        { input: 'f' },
      );
      perScale[o]!.push(...out.d!);
    }
    checkAborted(signal);
  }
  scales.forEach((s, o) => {
    const all = Float32Array.from(perScale[o]!.flatMap((m) => Array.from(m))).sort();
    s.unit = Math.max(all[Math.min(all.length - 1, Math.floor(UNIT_QUANTILE * all.length))]!, 1e-6);
    if (perCell) s.cellUnits = cellUnits(perScale[o]!, h, w, s.unit);
  });
  // the combined maps of the held-out pictures, read at each width
  const g = new GraphBuilder('patch-sample-readout');
  const inputs = scales.map((_, o) => g.input(`d${o}`, ['N', 1, h, w]));
  const combined = addCombined(
    g,
    inputs,
    scales.map((s) => s.cellUnits ?? s.unit),
    h,
    w,
  );
  SIGMAS.forEach((s, i) => g.output(g.op('ReduceMax', [blur(g, combined, 1, s)], { axes: [1, 2, 3], keepdims: 0 }), `m${i}`, ['N']));
  const maxima: number[][] = SIGMAS.map(() => []);
  const pictures = perScale[0]!.length;
  const readout = g.toBytes();
  for (let p = 0; p < pictures; p++) {
    const out = await runOnce(readout, Object.fromEntries(scales.map((_, o) => [`d${o}`, { data: perScale[o]![p]!, dims: [1, 1, h, w] }])));
    SIGMAS.forEach((_, i) => maxima[i]!.push(out[`m${i}`]![0]!));
  }
  return maxima.map((xs) => Math.max([...xs].sort((a, b) => a - b)[xs.length >> 1]!, 1e-6));
}

/**
 * Each place's own unit, for parts in a fixture: the held-out OK distances at that place (their
 * 90th percentile over the pictures, the largest in its 3x3 neighbourhood against the few
 * pictures), never below CELL_FLOOR of the map's unit. A flat printed area where every OK picture
 * looks the same then speaks up at a faint change, instead of being measured in the unit of the
 * edges, whose OK pictures differ by the fixture's play.
 */
function cellUnits(maps: Float32Array[], h: number, w: number, unit: number): Float32Array {
  const cells = h * w;
  const q = new Float32Array(cells);
  const column = new Float32Array(maps.length);
  for (let c = 0; c < cells; c++) {
    maps.forEach((m, i) => (column[i] = m[c]!));
    column.sort();
    q[c] = column[Math.min(maps.length - 1, Math.floor(0.9 * maps.length))]!;
  }
  const floor = CELL_FLOOR * unit;
  const out = new Float32Array(cells);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let m = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < h && xx >= 0 && xx < w) m = Math.max(m, q[yy * w + xx]!);
        }
      out[y * w + x] = Math.max(m, floor);
    }
  return out;
}

/**
 * Whitening of standardised descriptors (correlation matrix C = V L V^T):
 * P = (L + s mean(L))^-1/2 V^T diag(1/std). Correlated responses (the same edge seen by several
 * filters) stop counting several times, and rare independent ones (a thin line) weigh as much as
 * the common ones; standardising first keeps small-valued filters (derivatives) from being
 * drowned by large-valued ones (colour) in the regularisation.
 */
export function whitening(cov: Float32Array, d: number): Float32Array {
  const std = Array.from({ length: d }, (_, i) => Math.sqrt(Math.max(cov[i * d + i]!, 1e-12)));
  const C = new Matrix(d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) C.set(i, j, (cov[i * d + j]! + cov[j * d + i]!) / 2 / (std[i]! * std[j]!));
  const evd = new EigenvalueDecomposition(C, { assumeSymmetric: true });
  const values = evd.realEigenvalues.map((v) => Math.max(v, 0));
  const floor = SHRINK * (values.reduce((a, b) => a + b, 0) / d) + 1e-12;
  const V = evd.eigenvectorMatrix;
  const out = new Float32Array(d * d);
  for (let k = 0; k < d; k++) {
    const scale = 1 / Math.sqrt(values[k]! + floor);
    for (let j = 0; j < d; j++) out[k * d + j] = (V.get(j, k) * scale) / std[j]!;
  }
  return out;
}
