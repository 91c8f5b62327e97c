import { ColorMode, type InputSpec } from '../src/runtime/onnx/contract.ts';
import { GraphBuilder, blur, mapAndScore } from '../src/runtime/onnx/index.ts';
import { type Learner, trainWithHoldout } from '../src/runtime/training/pipeline.ts';
import { rng } from '../src/runtime/training/algorithms/random.ts';
import type { Algorithm } from '../src/runtime/training/algorithms/types.ts';

/**
 * The plain baselines every shipped algorithm must beat, measured in the same run through the
 * same training pipeline (held-out OK scores, the OK-only threshold rule) as the product:
 * - raw-patch: raw 8x8 grey patches every 4 px, nearest-neighbour distance to the OK pictures'
 *   patches (textures);
 * - golden-diff: absolute difference to the mean OK picture, lightly blurred (aligned parts).
 * They are benchmark yardsticks, not products: they live in bench/ and are not in the catalogue.
 */

const SIZE = 256;
const PATCH = 8;
const STEP = 4;
const BANK = 8192;
const grid = (SIZE - PATCH) / STEP + 1;

const spec: InputSpec = { width: SIZE, height: SIZE, color: ColorMode.GRAY, resize: 'fill', anomalyRange: [0, 1] };
const definition = (id: string, description: string) => ({
  id,
  name: id,
  version: 'baseline',
  type: 'anomaly-detection',
  attribute: 'baseline',
  description,
  parameters: [],
});

interface PatchBank {
  bank: Float32Array;
  entries: number;
  owner: Int32Array;
}

function patchesOf(t: Float32Array): Float32Array {
  const out = new Float32Array(grid * grid * PATCH * PATCH);
  let o = 0;
  for (let gy = 0; gy < grid; gy++)
    for (let gx = 0; gx < grid; gx++) for (let y = 0; y < PATCH; y++) for (let x = 0; x < PATCH; x++) out[o++] = t[(gy * STEP + y) * SIZE + gx * STEP + x]!;
  return out;
}

function buildRawPatch(m: PatchBank): Uint8Array {
  const g = new GraphBuilder('raw-patch-baseline');
  const x = g.input('images', ['N', 1, SIZE, SIZE]);
  const norms = new Float32Array(m.entries);
  for (let e = 0; e < m.entries; e++) for (let k = 0; k < PATCH * PATCH; k++) norms[e]! += m.bank[e * PATCH * PATCH + k]! ** 2;
  const cross = g.op(
    'Conv',
    [
      x,
      g.constant(
        m.bank.map((v) => -2 * v),
        [m.entries, 1, PATCH, PATCH],
      ),
      g.constant(norms, [m.entries]),
    ],
    { strides: [STEP, STEP] },
  );
  const self = g.op('Conv', [g.op('Mul', [x, x]), g.constant(new Float32Array(PATCH * PATCH).fill(1), [1, 1, PATCH, PATCH])], { strides: [STEP, STEP] });
  const d2 = g.op('Relu', [g.op('Add', [g.op('ReduceMin', [cross], { axes: [1], keepdims: 1 }), self])]);
  mapAndScore(g, g.op('Sqrt', [d2]), grid, grid);
  return g.toBytes();
}

export const rawPatchBaseline: Algorithm = {
  definition: definition('baseline:raw-patch', 'raw 8x8 grey patches, nearest-neighbour distance to the OK patches'),
  inputSpec: () => spec,
  train(input) {
    const learner: Learner<Float32Array, PatchBank> = {
      prepare: async (tensors) => tensors.map(patchesOf),
      fit(items) {
        const r = rng(11);
        const per = grid * grid;
        const total = items.length * per;
        const entries = Math.min(BANK, total);
        const bank = new Float32Array(entries * PATCH * PATCH);
        const owner = new Int32Array(entries);
        for (let e = 0; e < entries; e++) {
          const pick = Math.floor(r() * total);
          const img = Math.floor(pick / per);
          owner[e] = img;
          bank.set(items[img]!.subarray((pick % per) * PATCH * PATCH, ((pick % per) + 1) * PATCH * PATCH), e * PATCH * PATCH);
        }
        return { bank, entries, owner };
      },
      build: buildRawPatch,
      folds: 10,
      derive(model, heldOut) {
        const keep: number[] = [];
        model.owner.forEach((o, e) => heldOut.has(o) || keep.push(e));
        const bank = new Float32Array(keep.length * PATCH * PATCH);
        keep.forEach((e, i) => bank.set(model.bank.subarray(e * PATCH * PATCH, (e + 1) * PATCH * PATCH), i * PATCH * PATCH));
        return { bank, entries: keep.length, owner: Int32Array.from(keep, (e) => model.owner[e]!) };
      },
    };
    return trainWithHoldout(learner, input);
  },
};

function buildGolden(mean: Float32Array): Uint8Array {
  const g = new GraphBuilder('golden-diff-baseline');
  const x = g.input('images', ['N', 1, SIZE, SIZE]);
  const diff = g.op('Abs', [g.op('Sub', [x, g.constant(mean, [1, 1, SIZE, SIZE])])]);
  mapAndScore(g, blur(g, diff, 1, 1.5), SIZE, SIZE);
  return g.toBytes();
}

export const goldenDiffBaseline: Algorithm = {
  definition: definition('baseline:golden-diff', 'absolute difference to the mean OK picture, blurred (sigma 1.5 px)'),
  inputSpec: () => spec,
  train(input) {
    const learner: Learner<Float32Array, Float32Array> = {
      fit(items) {
        const mean = new Float32Array(SIZE * SIZE);
        for (const t of items) for (let i = 0; i < mean.length; i++) mean[i]! += t[i]! / items.length;
        return mean;
      },
      build: buildGolden,
      folds: 5,
    };
    return trainWithHoldout(learner, input);
  },
};
