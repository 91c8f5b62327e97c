/**
 * Training time of 30 OK pictures of 256 px (issue 12's budget: 60 s on the 2-core machine), per
 * algorithm, as wall-clock seconds and as CPU seconds of the process (all threads): on a machine
 * shared with other work the wall clock stretches, the CPU time does not; CPU seconds / cores is
 * the wall time on a quiet machine if every core were busy throughout, CPU seconds if only one were
 * (the k-center picks are single-threaded JavaScript): a quiet run lies in between.
 *
 *   node bench/train-time.ts [--category wood] [--algorithms patch-sample,aligned-patch] [--sensitivity-cost 2]
 *
 * Each trained model is also weighed and timed: its ONNX size, and the median of 40 runs of one
 * picture on one thread (after 5 to warm up), the algorithms of one run side by side.
 *
 * `--sensitivity-cost N`: N rounds of each training with and without the sensitivity probes
 * (training/sensitivity.ts; switched off here by giving no fold a probe), alternating, so the
 * probes' cost is read within one run on the same machine state.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { channelsOf, decodeToTensor } from '../src/runtime/images/tensor.ts';
import { algorithmById } from '../src/runtime/training/algorithms/index.ts';
import { effectiveParams } from '../src/runtime/training/algorithms/params.ts';
import { SensitivityProbes } from '../src/runtime/training/sensitivity.ts';
import { buildSet } from './photos/dataset.ts';

const { values: args } = parseArgs({
  options: {
    category: { type: 'string', default: 'wood' },
    algorithms: { type: 'string', default: 'patch-sample,aligned-patch' },
    'sensitivity-cost': { type: 'string', default: '0' },
  },
});
const rounds = Number(args['sensitivity-cost']);
const withProbes = SensitivityProbes.prototype.forFold;
const noProbes: typeof withProbes = () => ({ probes: [], tensors: [] });
const set = await buildSet(args.category, { trainOk: 30, testOk: 1, testNg: 1, seed: 7, cameraSize: false });
const rows = [];
for (const id of args.algorithms.split(',')) {
  const algorithm = algorithmById(id);
  if (!algorithm) throw new Error(`unknown algorithm ${id}`);
  const params = effectiveParams(algorithm.definition.parameters, {});
  const spec = algorithm.inputSpec(params);
  const ok = await Promise.all(set.trainOk.map(async (p) => (await decodeToTensor(p.jpeg, spec)).data));
  const time = async () => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await algorithm.train({ ok, ng: [], spec, params, progress: () => {}, signal: new AbortController().signal });
    const cpu = process.cpuUsage(cpu0);
    return { wall: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, onnx: out.onnx };
  };
  const { wall, cpuSeconds, onnx } = await time();
  const inference = await timeModel(onnx, ok[0]!, [1, channelsOf(spec), spec.height, spec.width]);
  const probes: { probes: boolean; wallSeconds: number; cpuSeconds: number }[] = [];
  for (let r = 0; r < rounds; r++)
    for (const on of [true, false]) {
      SensitivityProbes.prototype.forFold = on ? withProbes : noProbes;
      const t = await time();
      probes.push({ probes: on, wallSeconds: +t.wall.toFixed(1), cpuSeconds: +t.cpuSeconds.toFixed(1) });
    }
  SensitivityProbes.prototype.forFold = withProbes;
  rows.push({
    algorithm: id,
    pictures: ok.length,
    size: spec.width,
    wallSeconds: +wall.toFixed(1),
    cpuSeconds: +cpuSeconds.toFixed(1),
    quietWallRange: [+(cpuSeconds / os.availableParallelism()).toFixed(1), +cpuSeconds.toFixed(1)],
    modelMB: +(onnx.length / 1e6).toFixed(1),
    ...inference,
    ...(rounds ? { sensitivityCost: probes } : {}),
  });
}
console.log(JSON.stringify({ category: args.category, cores: os.availableParallelism(), loadAverage1m: +os.loadavg()[0]!.toFixed(1), rows }, null, 2));

/** One picture at a time on one thread: the model's own cost, apart from decoding and the server. */
async function timeModel(onnx: Uint8Array, picture: Float32Array, dims: number[]) {
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = { images: new ort.Tensor('float32', picture, dims) };
  for (let i = 0; i < 5; i++) await session.run(feeds);
  const ms: number[] = [];
  for (let i = 0; i < 40; i++) {
    const t = performance.now();
    await session.run(feeds);
    ms.push(performance.now() - t);
  }
  await session.release();
  ms.sort((a, b) => a - b);
  return { msPerPicture1Thread: +ms[20]!.toFixed(1), msPerPicture1ThreadP90: +ms[36]!.toFixed(1) };
}
