/**
 * Quality benchmark: trains every algorithm on generated OK pictures of each category and scores
 * held-out OK and NG pictures. Prints JSON: image AUROC and box hit rate per algorithm and
 * category, plus the goals from the spec.
 *
 *   npm run bench:quality [-- --categories carpet,plate --algorithms patch-sample --train 20 --verbose]
 *
 * Definitions
 * - image AUROC: NG = positive, the model's `score` output.
 * - box hit rate: over defects whose ground-truth box covers more than 1 % of the picture, the
 *   share for which the picture is judged BAD at the model's own threshold (chosen from OK
 *   pictures only) and some reported box covers at least half of the ground-truth box while the
 *   overlap is at least a tenth of the reported box (one box over the whole picture does not count).
 */
import { parseArgs } from 'node:util';
import { decodeToTensor } from '../src/runtime/images/tensor.ts';
import { type Box, judge } from '../src/runtime/inference/postprocess.ts';
import { ALGORITHMS } from '../src/runtime/training/algorithms/index.ts';
import type { TrainOutput } from '../src/runtime/training/algorithms/types.ts';
import { effectiveParams } from '../src/runtime/training/algorithms/params.ts';
import { runPerImage } from '../src/runtime/training/ort.ts';
import { auroc } from '../src/runtime/training/threshold.ts';
import { CATEGORIES, type Category, type GroundTruth, type SyntheticImage, TEXTURES, generateSet, toPng } from './synthetic.ts';

const { values: args } = parseArgs({
  options: {
    categories: { type: 'string' },
    algorithms: { type: 'string' },
    train: { type: 'string', default: '20' },
    'test-ok': { type: 'string', default: '20' },
    'test-ng': { type: 'string', default: '90' },
    size: { type: 'string', default: '128' },
    seed: { type: 'string', default: '7' },
    verbose: { type: 'boolean', default: false },
    /** Parameter overrides for every algorithm that has them: name=value;name=value */
    params: { type: 'string' },
  },
});

const categories = (args.categories?.split(',') ?? [...CATEGORIES]) as Category[];
const algorithms = ALGORITHMS.filter((a) => !args.algorithms || args.algorithms.split(',').includes(a.definition.id));
const size = Number(args.size);

interface Cell {
  auroc: number;
  boxHit: number;
  boxDefects: number;
  boxHitByContrast: Record<string, number>;
  /** Share of NG judged BAD / OK judged GOOD at the model's threshold. */
  recall: number;
  specificity: number;
  trainSeconds: number;
  predictMsPerImage: number;
  byKind?: Record<string, { detected: number; total: number }>;
}

function boxHit(truth: GroundTruth['box'], boxes: readonly Box[]): boolean {
  // ground truth max edges are inclusive pixels, reported ones exclusive
  const g = { x0: truth.xMin, y0: truth.yMin, x1: truth.xMax + 1, y1: truth.yMax + 1 };
  const gArea = (g.x1 - g.x0) * (g.y1 - g.y0);
  return boxes.some((b) => {
    const iw = Math.min(g.x1, b.xMax) - Math.max(g.x0, b.xMin);
    const ih = Math.min(g.y1, b.yMax) - Math.max(g.y0, b.yMin);
    const inter = Math.max(0, iw) * Math.max(0, ih);
    const bArea = (b.xMax - b.xMin) * (b.yMax - b.yMin);
    return inter >= 0.5 * gArea && inter >= 0.1 * bArea;
  });
}

async function tensors(images: readonly SyntheticImage[], spec: TrainOutput['inputSpec']) {
  return Promise.all(images.map(async (im) => (await decodeToTensor(await toPng(im), spec)).data));
}

const results: Record<string, Record<string, Cell>> = {};
const started = Date.now();
for (const category of categories) {
  const trainSet = generateSet(category, { seed: Number(args.seed), size, ok: Number(args.train), ng: 0 });
  const testSet = generateSet(category, { seed: Number(args.seed) + 1000, size, ok: Number(args['test-ok']), ng: Number(args['test-ng']) });
  for (const algorithm of algorithms) {
    const known = new Set(algorithm.definition.parameters.map((p) => p.name));
    const overrides = Object.fromEntries(
      (args.params ?? '').split(';').filter(Boolean).map((kv) => kv.split('=') as [string, string]).filter(([k]) => known.has(k)),
    );
    const params = effectiveParams(algorithm.definition.parameters, overrides);
    const spec = algorithm.inputSpec(params);
    const ok = await tensors(trainSet.ok, spec);
    const t0 = Date.now();
    const out = await algorithm.train({ ok, ng: [], spec, params, progress: () => {}, signal: new AbortController().signal });
    const trainSeconds = (Date.now() - t0) / 1000;
    const testImages = [...testSet.ok, ...testSet.ng];
    const inputs = await tensors(testImages, out.inputSpec);
    const t1 = Date.now();
    const res = await runPerImage(out.onnx, inputs, [spec.color === 'rgb' ? 3 : 1, spec.height, spec.width], ['score', 'anomaly_map'], { batch: 8 });
    const predictMs = (Date.now() - t1) / inputs.length;
    const scores = res.score!.map((s) => s[0]!);
    const okScores = scores.slice(0, testSet.ok.length);
    const ngScores = scores.slice(testSet.ok.length);
    const mapSide = Math.round(Math.sqrt(res.anomaly_map![0]!.length));
    let hits = 0;
    let counted = 0;
    const byContrast: Record<string, { hit: number; total: number }> = {};
    const byKind: Record<string, { detected: number; total: number }> = {};
    testImages.forEach((im, i) => {
      const j = judge(
        { map: res.anomaly_map![i]!, mapWidth: mapSide, mapHeight: mapSide, score: scores[i]!, width: im.width, height: im.height },
        { threshold: out.threshold, ignoreOuter: 0, minDetectedArea: 0 },
      );
      for (const d of im.defects) {
        const key = `${d.kind}/${d.size}/${d.contrast}`;
        byKind[key] ??= { detected: 0, total: 0 };
        byKind[key].total++;
        if (j.result === 'BAD') byKind[key].detected++;
        const boxArea = (d.box.xMax - d.box.xMin + 1) * (d.box.yMax - d.box.yMin + 1);
        if (boxArea <= 0.01 * im.width * im.height) continue;
        counted++;
        const bucket = (byContrast[d.contrast] ??= { hit: 0, total: 0 });
        bucket.total++;
        if (j.result === 'BAD' && boxHit(d.box, j.boxes)) {
          hits++;
          bucket.hit++;
        }
        else if (process.env.BENCH_DEBUG) console.error('miss', category, algorithm.definition.id, key, j.result, JSON.stringify(d.box), JSON.stringify(j.boxes.slice(0, 3).map((b) => [b.xMin, b.yMin, b.xMax, b.yMax].map(Math.round))));
      }
    });
    const cell: Cell = {
      auroc: round(auroc(okScores, ngScores)),
      boxHit: round(counted ? hits / counted : Number.NaN),
      boxDefects: counted,
      boxHitByContrast: Object.fromEntries(Object.entries(byContrast).map(([k, v]) => [k, round(v.hit / v.total)])),
      recall: round(ngScores.filter((s) => s >= out.threshold).length / ngScores.length),
      specificity: round(okScores.filter((s) => s < out.threshold).length / okScores.length),
      trainSeconds: round(trainSeconds),
      predictMsPerImage: round(predictMs),
    };
    if (args.verbose) cell.byKind = byKind;
    (results[algorithm.definition.id] ??= {})[category] = cell;
    console.error(`${category} ${algorithm.definition.id}: ${JSON.stringify(cell)}`);
    if (process.env.BENCH_DEBUG) {
      const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b).map((v) => round(v));
      console.error('  threshold', round(out.threshold), 'cv OK', sorted(out.details.okHeldOutScores as number[]).slice(-5), 'test OK', sorted(okScores).slice(-5), 'NG', sorted(ngScores).slice(0, 30));
    }
  }
}

function round(v: number) {
  return Math.round(v * 1000) / 1000;
}

const textures = categories.filter((c) => (TEXTURES as readonly string[]).includes(c));
const parts = categories.filter((c) => !textures.includes(c));

/** The algorithm with the best mean AUROC over a family of categories. */
function bestOf(cats: readonly string[]) {
  let best = { algorithm: '', auroc: -1 };
  for (const [algorithm, byCat] of Object.entries(results)) {
    const vals = cats.map((c) => byCat[c]?.auroc ?? Number.NaN);
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    if (cats.length && mean > best.auroc) best = { algorithm, auroc: mean };
  }
  return best;
}
/** Box hits over the family's categories, each judged by the family's best algorithm. */
function boxes(cats: readonly string[], algorithm: string) {
  const cells = cats.map((c) => results[algorithm]?.[c]).filter((c): c is Cell => !!c);
  return { hit: cells.reduce((a, c) => a + Math.round(c.boxHit * c.boxDefects), 0), total: cells.reduce((a, c) => a + c.boxDefects, 0) };
}
const bestTextures = bestOf(textures);
const bestParts = bestOf(parts);
const tb = boxes(textures, bestTextures.algorithm);
const pb = boxes(parts, bestParts.algorithm);
const boxRate = (tb.hit + pb.hit) / Math.max(1, tb.total + pb.total);
const summary = {
  seconds: round((Date.now() - started) / 1000),
  setup: { size, trainOk: Number(args.train), testOk: Number(args['test-ok']), testNg: Number(args['test-ng']), thresholds: 'from OK pictures only' },
  results,
  goals: {
    texturesBestAuroc: { algorithm: bestTextures.algorithm, value: round(bestTextures.auroc), goal: 0.95, met: bestTextures.auroc >= 0.95 },
    partsBestAuroc: { algorithm: bestParts.algorithm, value: round(bestParts.auroc), goal: 0.97, met: bestParts.auroc >= 0.97 },
    boxHitRate: {
      how: 'defects over 1 % of the picture, each category judged by the best algorithm of its family',
      textures: round(tb.hit / Math.max(1, tb.total)),
      parts: round(pb.hit / Math.max(1, pb.total)),
      value: round(boxRate),
      goal: 0.9,
      met: boxRate >= 0.9,
    },
  },
};
console.log(JSON.stringify(summary, null, 2));
