import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Config } from '../src/config.ts';
import { loadConfig } from '../src/config.ts';
import { GraphBuilder } from '../src/runtime/onnx/index.ts';
import type { InputSpec } from '../src/runtime/onnx/contract.ts';
import { decodeToTensor } from '../src/runtime/images/tensor.ts';
import { createPubSub } from '../src/runtime/pubsub/index.ts';
import type { PubSub } from '../src/runtime/pubsub/pubsub.ts';
import type { ModelPatch, Store } from '../src/runtime/store/store.ts';
import { createStore, type LocalStore } from '../src/runtime/store/index.ts';
import type { ItemRecord, ModelRecord, TargetRecord } from '../src/runtime/store/types.ts';

export const SIZE = 64;
export const POOL = 4;
export const spec: InputSpec = { width: SIZE, height: SIZE, color: 'gray', resize: 'fill', anomalyRange: [0, 0.5] };

/** A clean "part": a horizontal gradient with a lighter square in the middle, as PNG. */
export async function partPng(opts: { defect?: { x: number; y: number; size: number }; side?: number } = {}): Promise<Buffer> {
  const side = opts.side ?? 128;
  const px = Buffer.alloc(side * side);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      let v = 60 + Math.round((x / side) * 100);
      if (x > side / 4 && x < (3 * side) / 4 && y > side / 4 && y < (3 * side) / 4) v += 60;
      const d = opts.defect;
      if (d && x >= d.x && x < d.x + d.size && y >= d.y && y < d.y + d.size) v = 0;
      px[y * side + x] = v;
    }
  return sharp(px, { raw: { width: side, height: side, channels: 1 } })
    .png()
    .toBuffer();
}

/**
 * A golden-image model following the contract: map = mean |x - golden| over POOL x POOL cells,
 * score = max of the map.
 */
export function goldenOnnx(golden: Float32Array, side = SIZE, pool = POOL, opts: { outputs?: [string, string] } = {}): Uint8Array {
  const g = new GraphBuilder('golden');
  const x = g.input('images', ['N', 1, side, side]);
  const diff = g.op('Abs', [g.op('Sub', [x, g.constant(golden, [1, 1, side, side])])]);
  const map = g.op('AveragePool', [diff], { kernel_shape: [pool, pool], strides: [pool, pool] });
  const [mapName, scoreName] = opts.outputs ?? ['anomaly_map', 'score'];
  g.output(map, mapName, ['N', 1, side / pool, side / pool]);
  g.output(g.op('ReduceMax', [map], { axes: [1, 2, 3], keepdims: 0 }), scoreName, ['N']);
  return g.toBytes();
}

/**
 * A READY golden-image model (registering the golden-test algorithm first), its map from
 * `goldenOnnx` on a clean `partPng`. `patch` adds to what the model is stored with.
 */
export async function createGoldenModel(
  store: Store,
  targetId: string,
  opts: { threshold?: number; params?: Record<string, string>; patch?: ModelPatch } = {},
): Promise<ModelRecord> {
  await store.syncAlgorithms([{ id: 'golden-test', name: 'Golden test', version: '1', type: 'test', attribute: 'test', description: 'test', parameters: [] }]);
  const golden = await decodeToTensor(await partPng(), spec);
  const onnx = await store.blobs.put(goldenOnnx(golden.data));
  const created = await store.createModel({
    name: 'golden',
    version: '1',
    algorithmId: 'golden-test',
    targetId,
    status: 'READY',
    params: opts.params ?? {},
    predictParameters: { threshold: opts.threshold ?? 0.1, ignoreOuter: 0, minDetectedArea: 0 },
    trainItemIds: [],
    okImageCount: 1,
    ngImageCount: 0,
  });
  return store.updateModel(created.id, { onnxBlob: onnx, inputSpec: { ...spec }, ...opts.patch });
}

export interface Fixture {
  dir: string;
  store: LocalStore;
  pubsub: PubSub;
  config: Config;
  target: TargetRecord;
  model: ModelRecord;
  log: { info(): void; warn(): void; error(): void };
  /** Adds PREDICTION items with the given pictures. */
  addItems(pngs: Buffer[]): Promise<ItemRecord[]>;
  cleanup(): Promise<void>;
}

export const quietLog = { info() {}, warn() {}, error() {}, debug() {} };

export async function fixture(env: Record<string, string> = {}): Promise<Fixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-inference-'));
  const store = await createStore({ dataDir: dir });
  const pubsub = await createPubSub({ log: quietLog });
  const config = { ...loadConfig({ DATA_DIR: dir, EXECUTION_PROVIDER: 'cpu', ...env }) };
  const target = await store.createTarget('parts', []);
  const model = await createGoldenModel(store, target.id);
  const addItems = async (pngs: Buffer[]) =>
    store.addItems(
      await Promise.all(
        pngs.map(async (png, i) => {
          const meta = await sharp(png).metadata();
          return {
            name: `p${i}.png`,
            targetId: target.id,
            type: 'PREDICTION' as const,
            good: null,
            images: [
              {
                name: `p${i}.png`,
                blob: await store.blobs.put(png),
                width: meta.width!,
                height: meta.height!,
                fileSize: png.byteLength,
                contentType: 'image/png',
              },
            ],
          };
        }),
      ),
    );
  return {
    dir,
    store,
    pubsub,
    config,
    target,
    model,
    log: quietLog,
    addItems,
    async cleanup() {
      await pubsub.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
