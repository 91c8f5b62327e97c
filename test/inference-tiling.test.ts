import { createHash } from 'node:crypto';
import sharp from 'sharp';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tileStarts, tiledSize, stitchTiles } from '../src/runtime/images/tiles.ts';
import { createInferenceService, type InferenceService } from '../src/runtime/inference/index.ts';
import { OFF_THREAD_CELLS } from '../src/runtime/inference/service.ts';
import { importModelArchive, readModelArchive } from '../src/runtime/models/archive.ts';
import type { InputSpec, ModelManifest } from '../src/runtime/onnx/contract.ts';
import { parseInputSpec } from '../src/runtime/onnx/schemas.ts';
import type { ModelRecord } from '../src/runtime/store/types.ts';
import { fixture, goldenOnnx, type Fixture } from './inference-fixtures.ts';

/*
 * A model that sees 64x64 tiles of a uniform grey surface: map = mean |x - grey| over 4x4 cells,
 * score = max of the map. A 12x12 px dark speck on a 2048x1536 picture is 0.4 px after a
 * whole-picture resize to 64x64 (invisible); in tiles of the picture at half size it is 6x6 px.
 */
const TILE = 64;
const GREY = 128;
const PICTURE = { width: 2048, height: 1536 };
const SPECK = { x: 1500, y: 400, size: 12 };
const base: InputSpec = { width: TILE, height: TILE, color: 'gray', resize: 'fill', anomalyRange: [0, 0.5] };
const tiled: InputSpec = { ...base, tiling: { longSide: 1024, overlap: 8 } };

async function surface(opts: { width: number; height: number; speck?: typeof SPECK }): Promise<Buffer> {
  const px = Buffer.alloc(opts.width * opts.height, GREY);
  const s = opts.speck;
  if (s) for (let y = s.y; y < s.y + s.size; y++) px.fill(0, y * opts.width + s.x, y * opts.width + s.x + s.size);
  return sharp(px, { raw: { width: opts.width, height: opts.height, channels: 1 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function zip(entries: Record<string, Uint8Array | string>): Promise<Buffer> {
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

function manifest(onnx: Uint8Array, name: string, input: InputSpec): string {
  const m: ModelManifest = {
    formatVersion: 1,
    name,
    version: '1',
    algorithm: { name: 'Grey surface', version: '1', parameters: {} },
    input,
    predictParameters: { threshold: 0.1, ignoreOuter: 0, minDetectedArea: 0 },
    stats: null,
    okImageCount: 1,
    ngImageCount: 0,
    trainingTime: null,
    createdAt: '2026-12-01T00:00:00Z',
    checksums: { 'model.onnx': sha(onnx) },
  };
  return JSON.stringify(m);
}

describe('tiled inference of camera-size pictures (InputSpec.tiling)', () => {
  let fx: Fixture;
  let inference: InferenceService;
  let whole: ModelRecord;
  let tiles: ModelRecord;
  beforeAll(async () => {
    fx = await fixture();
    inference = await createInferenceService({
      store: fx.store,
      pubsub: fx.pubsub,
      config: { ...fx.config, batchCalibration: false, maxBatchSize: 16 },
      log: fx.log,
    });
    const onnx = goldenOnnx(new Float32Array(TILE * TILE).fill(GREY / 255), TILE, 4);
    // The same ONNX graph twice from one archive: one manifest sets tiling, the other does not.
    const archive = await zip({
      'whole/manifest.json': manifest(onnx, 'whole', base),
      'whole/model.onnx': onnx,
      'tiled/manifest.json': manifest(onnx, 'tiled', tiled),
      'tiled/model.onnx': onnx,
    });
    const read = await readModelArchive(archive);
    expect(read.find((m) => m.folder === 'tiled')!.manifest.input.tiling).toEqual({ longSide: 1024, overlap: 8 });
    [whole, tiles] = (await importModelArchive({ store: fx.store, provider: 'cpu' }, archive, fx.target.id)) as [ModelRecord, ModelRecord];
  });
  afterAll(async () => {
    await inference?.close();
    await fx?.cleanup();
  });

  it('finds a small defect at full resolution that a whole-picture resize misses, boxed in original pixels', async () => {
    expect(tiles.inputSpec).toMatchObject({ tiling: { longSide: 1024, overlap: 8 } });
    const [item] = await fx.addItems([await surface({ ...PICTURE, speck: SPECK })]);
    const [missed] = await inference.predict(whole, [item!.id]);
    expect(missed!.result).toBe('GOOD');
    expect(missed!.score).toBeLessThan(0.02);

    const before = inference.batchSizes().length;
    const [found] = await inference.predict(tiles, [item!.id]);
    expect(found!.result).toBe('BAD');
    expect(found!.score).toBeGreaterThan(0.2);
    expect(found!.detectedObjects).toBe(1);
    // 19 x 14 tiles of 64 px (overlap >= 8) over the 1024 x 768 resize, run in batches of up to 16.
    const ran = inference.batchSizes().slice(before);
    expect(ran.reduce((a, b) => a + b, 0)).toBe(19 * 14);
    expect(Math.max(...ran)).toBe(16);

    const [box] = await fx.store.annotationsByOwners('assessment', [found!.id]);
    // One map cell is 4 px of the half-size picture = 8 original px; the box holds the speck
    // and is at most a few cells larger.
    expect(box!.xMin!).toBeLessThanOrEqual(SPECK.x);
    expect(box!.xMax!).toBeGreaterThanOrEqual(SPECK.x + SPECK.size);
    expect(box!.yMin!).toBeLessThanOrEqual(SPECK.y);
    expect(box!.yMax!).toBeGreaterThanOrEqual(SPECK.y + SPECK.size);
    expect(box!.xMax! - box!.xMin!).toBeLessThanOrEqual(SPECK.size + 4 * 8);
    expect(box!.yMax! - box!.yMin!).toBeLessThanOrEqual(SPECK.size + 4 * 8);
  });

  it('judges a picture whose stitched map is large in the post-processing thread: the speck found and boxed', async () => {
    // 2048 x 2048 -> 1024 x 1024 -> a stitched map of 256 x 256 cells: judged off the main thread.
    expect(256 * 256).toBeGreaterThanOrEqual(OFF_THREAD_CELLS);
    const [item] = await fx.addItems([await surface({ width: 2048, height: 2048, speck: SPECK })]);
    const [found] = await inference.predict(tiles, [item!.id]);
    expect([found!.result, found!.detectedObjects]).toEqual(['BAD', 1]);
    const [box] = await fx.store.annotationsByOwners('assessment', [found!.id]);
    expect(box!.xMin!).toBeLessThanOrEqual(SPECK.x);
    expect(box!.xMax!).toBeGreaterThanOrEqual(SPECK.x + SPECK.size);
    expect(box!.yMin!).toBeLessThanOrEqual(SPECK.y);
    expect(box!.yMax!).toBeGreaterThanOrEqual(SPECK.y + SPECK.size);
    expect(box!.xMax! - box!.xMin!).toBeLessThanOrEqual(SPECK.size + 4 * 8);
  });

  it('judges a clean picture GOOD with the tiled model, and draws the heatmap over the whole picture', async () => {
    const [clean, bad] = await fx.addItems([await surface(PICTURE), await surface({ ...PICTURE, speck: SPECK })]);
    const [a, b] = await inference.predict(tiles, [clean!.id, bad!.id]);
    expect(a!.result).toBe('GOOD');
    expect(a!.score).toBeLessThan(0.01);
    expect(b!.result).toBe('BAD');
    const [image] = await fx.store.imagesByOwners('assessment', [b!.id]);
    const png = await inference.renderImage(image!);
    const { data, info } = await sharp(png!.body).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([1024, 768]);
    const at = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    // The overlay is half the original size: the speck's centre is red, a far corner blue.
    const [r1, , b1] = at((SPECK.x + SPECK.size / 2) / 2, (SPECK.y + SPECK.size / 2) / 2);
    const [r2, , b2] = at(40, 700);
    expect(r1!).toBeGreaterThan(b1!);
    expect(b2!).toBeGreaterThan(r2!);
  });

  it('never upscales: a picture smaller than longSide is cut at its own size', async () => {
    expect(tiledSize(600, 400, base, { longSide: 1024, overlap: 8 })).toEqual({ width: 600, height: 400 });
    expect(tiledSize(4096, 3000, base, { longSide: 1024, overlap: 8 })).toEqual({ width: 1024, height: 750 });
    // Thinner than a tile: stretched to one tile's height.
    expect(tiledSize(2000, 20, base, { longSide: 1000, overlap: 8 })).toEqual({ width: 1000, height: 64 });
    const speck = { x: 300, y: 200, size: 6 };
    const [item] = await fx.addItems([await surface({ width: 600, height: 400, speck })]);
    const before = inference.batchSizes().length;
    const [r] = await inference.predict(tiles, [item!.id]);
    expect(r!.result).toBe('BAD');
    expect(
      inference
        .batchSizes()
        .slice(before)
        .reduce((a, b) => a + b, 0),
    ).toBe(tileStarts(600, 64, 8).length * tileStarts(400, 64, 8).length);
    const [box] = await fx.store.annotationsByOwners('assessment', [r!.id]);
    expect(box!.xMin!).toBeLessThanOrEqual(speck.x);
    expect(box!.xMax!).toBeGreaterThanOrEqual(speck.x + speck.size);
  });
});

describe('tile geometry and stitching', () => {
  it('covers the picture with tiles overlapping by at least the overlap, the last flush with the edge', () => {
    for (const [length, tile, overlap] of [
      [1024, 64, 8],
      [750, 64, 8],
      [100, 64, 0],
      [64, 64, 8],
      [1000, 256, 32],
    ] as const) {
      const starts = tileStarts(length, tile, overlap);
      expect(starts[0]).toBe(0);
      expect(starts.at(-1)! + tile).toBe(Math.max(tile, length));
      for (let i = 1; i < starts.length; i++) {
        expect(starts[i - 1]! + tile - starts[i]!).toBeGreaterThanOrEqual(overlap);
        expect(starts[i]!).toBeGreaterThan(starts[i - 1]!);
      }
      // As few tiles as that overlap allows.
      if (starts.length > 1) expect((starts.length - 2) * (tile - overlap) + tile).toBeLessThan(length);
    }
  });

  it('combines overlapping cells by max (default) or mean; the score is the highest tile score', () => {
    const spec = { width: 8, height: 8 };
    // Two 8 px tiles 4 px apart, maps 4x4 (2 px a cell): 2 columns overlap.
    const a = { map: new Float32Array(16).fill(1), mapWidth: 4, mapHeight: 4, score: 0.3 };
    const b = { map: new Float32Array(16).fill(3), mapWidth: 4, mapHeight: 4, score: 0.9 };
    const tiles = [
      { x: 0, y: 0 },
      { x: 4, y: 0 },
    ];
    const max = stitchTiles([a, b], tiles, spec);
    expect([max.mapWidth, max.mapHeight, max.score]).toEqual([6, 4, 0.9]);
    expect(Array.from(max.map.subarray(0, 6))).toEqual([1, 1, 3, 3, 3, 3]);
    const mean = stitchTiles([a, b], tiles, spec, 'mean');
    expect(Array.from(mean.map.subarray(0, 6))).toEqual([1, 1, 2, 2, 3, 3]);
    expect(mean.score).toBe(0.9);
  });

  it('accepts a manifest input with or without tiling and refuses an overlap as large as a tile', () => {
    expect(parseInputSpec(base)).toEqual(base);
    expect(parseInputSpec({ ...base, tiling: { longSide: 2448, overlap: 16, merge: 'mean' } })!.tiling).toEqual({ longSide: 2448, overlap: 16, merge: 'mean' });
    expect(parseInputSpec({ ...base, tiling: { longSide: 2448, overlap: 64 } })).toBeNull();
    expect(parseInputSpec({ ...base, tiling: { longSide: 0, overlap: 8 } })).toBeNull();
  });
});
