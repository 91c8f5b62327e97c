import { createHash } from 'node:crypto';
import onnxProto from 'onnx-proto';
import yazl from 'yazl';
import { GraphBuilder, decodeModel } from '../src/runtime/onnx/builder.ts';
import type { ModelManifest } from '../src/runtime/onnx/contract.ts';
import { spec } from './inference-fixtures.ts';

/** Hostile archives and models of issue 9 (attacks 3, 5, 8). */
const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;

export const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export function zip(entries: Record<string, Uint8Array | string>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, data] of Object.entries(entries)) z.addBuffer(Buffer.from(data), name);
  z.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    z.outputStream.on('error', reject);
  });
}

export function manifest(onnxBytes: Uint8Array, over: Partial<ModelManifest> & Record<string, unknown> = {}): string {
  const m = {
    formatVersion: 1,
    name: 'hostile',
    version: '1',
    algorithm: { name: 'My own', version: '0.1', parameters: {} },
    input: spec,
    predictParameters: { threshold: 0.1, ignoreOuter: 0, minDetectedArea: 0 },
    stats: null,
    okImageCount: 0,
    ngImageCount: 0,
    trainingTime: null,
    createdAt: '2024-01-01T00:00:00Z',
    checksums: { 'model.onnx': sha(onnxBytes) },
    ...over,
  };
  return JSON.stringify(m);
}

export const archiveOf = (onnxBytes: Uint8Array, over: Partial<ModelManifest> & Record<string, unknown> = {}, folder = 'm') =>
  zip({ [`${folder}/manifest.json`]: manifest(onnxBytes, over), [`${folder}/model.onnx`]: onnxBytes });

/** A contract-shaped graph whose score adds `extra` (a scalar computed by the hostile part). */
function contractGraph(hostile: (g: GraphBuilder) => string): Uint8Array {
  const side = spec.width;
  const g = new GraphBuilder('hostile');
  const x = g.input('images', ['N', 1, side, side]);
  const map = g.op('AveragePool', [x], { kernel_shape: [8, 8], strides: [8, 8] });
  const extra = hostile(g);
  g.output(g.op('Add', [map, g.op('Mul', [extra, g.scalar(0)])]), 'anomaly_map', ['N', 1, side / 8, side / 8]);
  g.output(g.op('ReduceMax', [map], { axes: [1, 2, 3], keepdims: 0 }), 'score', ['N']);
  return g.toBytes();
}

/**
 * A Loop of 1e12 trips (attack 3): on the main thread it froze every request, even SIGTERM.
 * The builder has no graph attributes, so the Loop node is added to the decoded model.
 */
export function endlessLoopOnnx(): Uint8Array {
  let loopOut = '';
  const bytes = contractGraph((g) => {
    loopOut = g.fresh('loop_out');
    return loopOut;
  });
  const model = decodeModel(bytes);
  const graph = model.graph!;
  const boolTrue = { name: 'cond_init', dataType: T.BOOL, dims: [], int32Data: [1] };
  const trips = { name: 'trips', dataType: T.INT64, dims: [], int64Data: [1_000_000_000_000] };
  const v0 = { name: 'v0', dataType: T.FLOAT, dims: [], floatData: [0] };
  const one = { name: 'one', dataType: T.FLOAT, dims: [], floatData: [1] };
  graph.initializer!.push(boolTrue, trips, v0);
  const scalarInfo = (name: string, elemType: number) => ({ name, type: { tensorType: { elemType, shape: { dim: [] } } } });
  const body = {
    name: 'body',
    input: [scalarInfo('i', T.INT64), scalarInfo('c_in', T.BOOL), scalarInfo('v_in', T.FLOAT)],
    output: [scalarInfo('c_out', T.BOOL), scalarInfo('v_out', T.FLOAT)],
    initializer: [one],
    node: [
      { opType: 'Identity', input: ['c_in'], output: ['c_out'], name: 'keep_going' },
      { opType: 'Add', input: ['v_in', 'one'], output: ['v_out'], name: 'count' },
    ],
  };
  graph.node!.unshift({
    opType: 'Loop',
    input: ['trips', 'cond_init', 'v0'],
    output: [loopOut],
    name: 'endless',
    attribute: [{ name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: body }],
  });
  return onnx.ModelProto.encode(model).finish();
}

/** A tiny graph that allocates `mib` MiB per run (attack 5: hundreds of MiB from a few bytes). */
export function memoryBombOnnx(mib: number): Uint8Array {
  const side = Math.floor(Math.sqrt((mib * 1024 * 1024) / 4));
  return contractGraph((g) => {
    // Depends on the input, so that it is not folded away at load: it runs with the blank picture.
    const seed = g.op('ReduceMax', ['images'], { axes: [1, 2, 3], keepdims: 0 });
    const big = g.op('Expand', [seed, g.constantInt64([1, 1, side, side])]);
    return g.op('ReduceMax', [g.op('Add', [big, g.scalar(1)])], { axes: [0, 1, 2, 3], keepdims: 0 });
  });
}

/**
 * Attack 4: a model that passes the import check (a blank picture: zero trips) but loops for
 * ~1e12 trips on any real picture (trip count = max pixel x 1e12).
 */
export function hangsOnRealPicturesOnnx(): Uint8Array {
  let loopOut = '';
  let trips = '';
  const bytes = contractGraph((g) => {
    const brightest = g.op('ReduceMax', ['images'], { axes: [0, 1, 2, 3], keepdims: 0 });
    trips = g.op('Cast', [g.op('Mul', [brightest, g.scalar(1e12)])], { to: onnx.TensorProto.DataType.INT64 });
    loopOut = g.fresh('loop_out');
    return loopOut;
  });
  const model = decodeModel(bytes);
  const graph = model.graph!;
  graph.initializer!.push({ name: 'cond_init', dataType: T.BOOL, dims: [], int32Data: [1] }, { name: 'v0', dataType: T.FLOAT, dims: [], floatData: [0] });
  const scalarInfo = (name: string, elemType: number) => ({ name, type: { tensorType: { elemType, shape: { dim: [] } } } });
  const body = {
    name: 'body',
    input: [scalarInfo('i', T.INT64), scalarInfo('c_in', T.BOOL), scalarInfo('v_in', T.FLOAT)],
    output: [scalarInfo('c_out', T.BOOL), scalarInfo('v_out', T.FLOAT)],
    initializer: [{ name: 'one', dataType: T.FLOAT, dims: [], floatData: [1] }],
    node: [
      { opType: 'Identity', input: ['c_in'], output: ['c_out'], name: 'keep_going' },
      { opType: 'Add', input: ['v_in', 'one'], output: ['v_out'], name: 'count' },
    ],
  };
  // After the node that computes the trip count (graph order is topological).
  const at = graph.node!.findIndex((n) => n.output?.includes(trips)) + 1;
  graph.node!.splice(at, 0, {
    opType: 'Loop',
    input: [trips, 'cond_init', 'v0'],
    output: [loopOut],
    name: 'loops_on_real_pictures',
    attribute: [{ name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: body }],
  });
  return onnx.ModelProto.encode(model).finish();
}
