import type { InputSpec } from '../../onnx/contract.ts';
import { GraphBuilder, mapAndScore, pad2d } from '../../onnx/index.ts';
import { type Learner, checkAborted, trainWithHoldout } from '../pipeline.ts';
import { DataType, commonParameters, num, param } from './params.ts';
import { addCombined, addFeatures, addReadout, calibrate, channels, gridOf, inputSpec, octaveDescriptors, octavesOf, whitenedRows } from './patch-sample.ts';
import type { Algorithm } from './types.ts';

/**
 * Aligned Patch Inspection: for parts held by a fixture, where every OK picture shows the same
 * thing at the same place give or take the fixture's play.
 *
 * Same descriptors as Patch Sample (filter-bank.ts, one set per octave), but each cell of the
 * feature grid keeps its own memory: the OK descriptors seen at that place in every training
 * picture (all of them up to `bank_per_cell` pictures, beyond that a greedy k-center pick). A cell
 * is compared with the memories of its own place and of the places up to `shift` cells away (the
 * play of the fixture: a few pixels and a degree or two), looked up at inference, so every OK
 * descriptor of the neighbourhood counts while each is stored once. A cell is compared only with
 * what an OK part shows there, so a component that is missing, or present where it should not
 * be, is found even when the same pattern is normal elsewhere on the part (which a position-free
 * memory like Patch Sample cannot see). Each place's distances are in its own unit, from the
 * held-out OK pictures' distances there (a flat printed area that never changes speaks up at a
 * faint mark; an edge that moves with the fixture's play does not drown it); per-octave maxima
 * and the multi-width read-out are Patch Sample's, so the two kinds of model read the same way.
 *
 * Measured on the real photographs of bench:quality (aligned parts: circuit board, printed
 * box, clock face, with ±3 px / ±2° fixture jitter and relighting), see BENCHMARKS.md.
 */

export const alignedPatchDefinition = {
  id: 'aligned-patch',
  name: 'Aligned Patch Inspection',
  version: '1.1.0',
  type: 'anomaly-detection',
  attribute: 'position-sensitive',
  description:
    'Each place of the picture is compared with what the OK pictures show at that place, give or take a few pixels. Suits parts held in a fixture (same pose every time); finds missing, extra or misplaced components. Learns from OK pictures only.',
  parameters: [
    param('model_type', DataType.INT, '0', ['0', '1'], 'Model type (0: three scales, 1: four scales, larger defects)'),
    param('bank_per_cell', DataType.INT, '64', ['4', '128'], 'OK descriptors kept per place and scale'),
    param(
      'shift',
      DataType.INT,
      '1',
      ['0', '4'],
      'Play of the fixture, in cells of 4 input pixels: how far a place looks for what the OK pictures showed (they should show the play)',
    ),
    ...commonParameters().map((p) => (p.name === 'input_size' ? { ...p, value: '256' } : p)),
  ],
};

/** One scale's per-cell memory, in whitened space. */
export interface CellMemory {
  dims: number;
  mean: Float32Array;
  projection: Float32Array;
  /** [cells, dims, K], row-major: each cell's K entries as columns (the MatMul's right side). */
  bank: Float32Array;
  k: number;
  /** [cells, K]: which training picture each entry came from. */
  owner: Int32Array;
  unit: number;
  /** Each place's own unit (calibrate's cellUnits), used in place of `unit`. */
  cellUnits?: Float32Array;
  /** How far (cells) a place looks into its neighbours' memories: the fixture's play. */
  shift: number;
}

export interface AlignedModel {
  spec: InputSpec;
  octaves: number;
  scales: CellMemory[];
  sigmaUnits: number[];
}

/** Masked entries sit this far out (in whitened units): never a nearest neighbour. */
const FAR = 1e3;

/** A memory as graph constants, made once per scale (each offset's lookup reuses them). */
function addBank(g: GraphBuilder, m: CellMemory, cells: number): { bank: string; norms: string } {
  const d = m.dims;
  const norms = new Float32Array(cells * m.k);
  for (let c = 0; c < cells; c++)
    for (let e = 0; e < m.k; e++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += m.bank[(c * d + j) * m.k + e]! ** 2;
      norms[c * m.k + e] = s;
    }
  return {
    bank: g.constant(
      m.bank.map((v) => -2 * v),
      [cells, d, m.k],
    ),
    norms: g.constant(norms, [cells, 1, m.k]),
  };
}

/** Squared whitened distance of z [N, d, h, w] to the nearest entry of each cell's own memory: one batched MatMul over the cells. */
function addOwnCellDistance2(g: GraphBuilder, z: string, mem: { bank: string; norms: string }, d: number, h: number, w: number): string {
  const cells = h * w;
  // [N, d, h, w] -> [cells, N, d]
  const rows = g.op('Transpose', [g.op('Reshape', [z, g.constantInt64([0, d, cells])])], { perm: [2, 0, 1] });
  const cross = g.op('Add', [g.op('MatMul', [rows, mem.bank]), mem.norms]);
  const nearest = g.op('ReduceMin', [cross], { axes: [2], keepdims: 1 });
  const self = g.op('ReduceSum', [g.op('Mul', [rows, rows]), g.constantInt64([2])], { keepdims: 1 });
  // [cells, N, 1] -> [N, 1, h, w]
  return g.op('Reshape', [g.op('Transpose', [g.op('Relu', [g.op('Add', [nearest, self])])], { perm: [1, 2, 0] }), g.constantInt64([0, 1, h, w])]);
}

/**
 * Nearest-entry distance of each cell among the memories of the places up to `shift` cells away,
 * [N, 1, h, w]. For each offset the picture's whitened descriptors are moved by it (edge-padded),
 * compared with the memory of the place they land on, and the distances moved back; a place off
 * the grid has no memory (FAR). The memories are stored once, each of its own place only, so
 * every OK descriptor of the neighbourhood counts without storing it (2 shift + 1)^2 times.
 */
function addCellDistance(g: GraphBuilder, features: string, m: CellMemory, h: number, w: number): string {
  const d = m.dims;
  const s = m.shift;
  const bias = new Float32Array(d);
  for (let k = 0; k < d; k++) for (let j = 0; j < d; j++) bias[k]! -= m.projection[k * d + j]! * m.mean[j]!;
  const z = g.op('Conv', [features, g.constant(m.projection, [d, d, 1, 1]), g.constant(bias, [d])]);
  const mem = addBank(g, m, h * w);
  if (!s) return rms(g, addOwnCellDistance2(g, z, mem, d, h, w), d);
  const offsets: [number, number][] = [];
  for (let dy = -s; dy <= s; dy++) for (let dx = -s; dx <= s; dx++) offsets.push([dy, dx]);
  // an h x w window at (y0, x0) of the last two axes (and one entry of axis 0 when given)
  const window = (x: string, axes: number[], starts: number[]) =>
    g.op('Slice', [x, g.constantInt64(starts), g.constantInt64(starts.map((v, i) => v + [h, w, 1][i]!)), g.constantInt64(axes)]);
  const padded = pad2d(g, z, [s, s, s, s], 'edge');
  // moved_o(b) = z(b - o): the descriptor whose neighbour at +o is the place b; all offsets as one
  // batch [O N, d, h, w], so one MatMul compares them with the places' memories
  const moved = g.op(
    'Concat',
    offsets.map(([dy, dx]) => window(padded, [2, 3], [s - dy, s - dx])),
    { axis: 0 },
  );
  // [O N, 1, h, w] -> [O, N, h + 2s, w + 2s], off-grid places far
  const dist = g.op('Reshape', [addOwnCellDistance2(g, moved, mem, d, h, w), g.constantInt64([offsets.length, -1, h, w])]);
  const there = g.op('Pad', [dist, g.constantInt64([0, 0, s, s, 0, 0, s, s]), g.scalar(FAR * FAR)], { mode: 'constant' });
  // back: the distance of place q under offset o is the one computed at q + o
  const reads = offsets.map(([dy, dx], o) => window(there, [2, 3, 0], [s + dy, s + dx, o]));
  return rms(g, g.op('Reshape', [g.op('Min', reads), g.constantInt64([-1, 1, h, w])]), d);
}

/** Per-dimension RMS distance from a squared one, as Patch Sample's. */
function rms(g: GraphBuilder, squared: string, d: number): string {
  return g.op('Sqrt', [g.op('Mul', [squared, g.scalar(1 / d)])]);
}

export function buildAlignedModel(m: AlignedModel): Uint8Array {
  const { h, w } = gridOf(m.spec);
  const g = new GraphBuilder('aligned-patch');
  const x = g.input('images', ['N', channels(m.spec), m.spec.height, m.spec.width]);
  const feats = addFeatures(g, x, m.spec, m.octaves);
  feats.forEach((f, o) => {
    if (f.dims !== m.scales[o]!.dims) throw new Error(`octave ${o}: feature size ${f.dims} differs from the trained ${m.scales[o]!.dims}`);
  });
  const distances = feats.map((f, o) => addCellDistance(g, f.value, m.scales[o]!, h, w));
  mapAndScore(
    g,
    addReadout(
      g,
      addCombined(
        g,
        distances,
        m.scales.map((s) => s.cellUnits ?? s.unit),
        h,
        w,
      ),
      m.sigmaUnits,
    ),
    h,
    w,
  );
  return g.toBytes({ algorithm: 'aligned-patch' });
}

function cellDistanceModel(m: CellMemory, h: number, w: number): Uint8Array {
  const g = new GraphBuilder('aligned-patch-distance');
  const f = g.input('f', ['N', m.dims, h, w]);
  g.output(addCellDistance(g, f, m, h, w), 'd', ['N', 1, h, w]);
  return g.toBytes();
}

/** The memory without the entries of some pictures (a held-out fold): they are moved far away. */
function without(m: CellMemory, heldOut: ReadonlySet<number>): CellMemory {
  if (!heldOut.size) return m;
  const bank = m.bank.slice();
  const cells = m.owner.length / m.k;
  for (let c = 0; c < cells; c++) {
    let kept = 0;
    for (let e = 0; e < m.k; e++) if (!heldOut.has(m.owner[c * m.k + e]!)) kept++;
    // a cell whose every entry came from held-out pictures keeps them (rare; better than no memory)
    if (!kept) continue;
    for (let e = 0; e < m.k; e++) {
      if (!heldOut.has(m.owner[c * m.k + e]!)) continue;
      for (let j = 0; j < m.dims; j++) bank[(c * m.dims + j) * m.k + e] = j === 0 ? FAR : 0;
    }
  }
  return { ...m, bank };
}

/**
 * Whitens every picture's descriptors (one whitening per scale, from all cells), then keeps each
 * place's own OK descriptors: all of them when there are at most `k` pictures, else `k` picked by
 * greedy k-center. The neighbours' play is looked up at inference (addCellDistance).
 */
async function cellMemory(
  maps: Float32Array[],
  d: number,
  h: number,
  w: number,
  k: number,
  shift: number,
  report: (f: number) => void,
  signal: AbortSignal,
): Promise<CellMemory> {
  const cells = h * w;
  const { rows, mean, projection } = await whitenedRows(maps, d, cells);
  checkAborted(signal);
  const bank = new Float32Array(cells * d * k);
  const owner = new Int32Array(cells * k);
  const pictures = maps.length;
  const minDist = new Float32Array(pictures);
  const dist2 = (a: number, b: number) => {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = rows[a * d + j]! - rows[b * d + j]!;
      s += t * t;
    }
    return s;
  };
  for (let c = 0; c < cells; c++) {
    // candidates: picture i's descriptor at this place is row i * cells + c
    minDist.fill(Infinity);
    let next = 0;
    for (let e = 0; e < k; e++) {
      const row = next * cells + c;
      for (let j = 0; j < d; j++) bank[(c * d + j) * k + e] = rows[row * d + j]!;
      owner[c * k + e] = next;
      if (k === pictures) {
        next = e + 1;
        continue;
      }
      let best = -1;
      for (let i = 0; i < pictures; i++) {
        const v = Math.min(minDist[i]!, dist2(i * cells + c, row));
        minDist[i] = v;
        if (v > best) {
          best = v;
          next = i;
        }
      }
    }
    if (c % (4 * w) === 0) {
      report(c / cells);
      checkAborted(signal);
      await new Promise<void>((r) => setImmediate(r));
    }
  }
  return { dims: d, mean, projection, bank, k, owner, unit: 1, shift };
}

export const alignedPatch: Algorithm = {
  definition: alignedPatchDefinition,
  inputSpec,
  async train(input) {
    const spec = input.spec;
    const octaves = octavesOf(num(input.params, 'model_type', 0));
    const k = Math.round(num(input.params, 'bank_per_cell', 64));
    const shift = Math.round(num(input.params, 'shift', 1));
    const { h, w } = gridOf(spec);
    let dims: number[] = [];
    const learner: Learner<Float32Array[], AlignedModel> = {
      async prepare(tensors, report) {
        const ex = await octaveDescriptors(tensors, spec, octaves);
        dims = ex.dims;
        report(1);
        return ex.items;
      },
      async fit(items, report, signal) {
        const scales: CellMemory[] = [];
        for (let o = 0; o < octaves; o++) {
          const span = (f: number) => report((o + 0.9 * f) / (octaves + 1), `per-place memory, scale ${o + 1}/${octaves}`);
          scales.push(
            await cellMemory(
              items.map((it) => it[o]!),
              dims[o]!,
              h,
              w,
              Math.min(k, items.length),
              shift,
              span,
              signal,
            ),
          );
        }
        report(octaves / (octaves + 1), 'calibration');
        const sigmaUnits = await calibrate(
          scales,
          items,
          h,
          w,
          signal,
          (s, held) => cellDistanceModel(without(s, held), h, w),
          // each place in its own unit: a part in a fixture looks the same at a place every time
          true,
        );
        return { spec, octaves, scales, sigmaUnits };
      },
      build: buildAlignedModel,
      folds: 10,
      derive: (model, heldOut) => ({ ...model, scales: model.scales.map((s) => without(s, heldOut)) }),
    };
    return trainWithHoldout(learner, input);
  },
};
