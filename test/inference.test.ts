import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createInferenceService, type InferenceService } from '../src/runtime/inference/index.ts';
import { decodeToTensor } from '../src/runtime/images/tensor.ts';
import { fixture, goldenOnnx, partPng, spec, type Fixture } from './inference-fixtures.ts';

describe('inference runtime', () => {
  let fx: Fixture;
  let inference: InferenceService;
  beforeEach(async () => {
    fx = await fixture();
    inference = await createInferenceService({ store: fx.store, pubsub: fx.pubsub, config: fx.config, log: fx.log });
  });
  afterEach(async () => {
    await inference.close();
    await fx.cleanup();
  });

  it('judges a defect picture BAD with a box over the defect and a clean one GOOD', async () => {
    const defect = { x: 80, y: 20, size: 16 };
    const [clean, bad] = await fx.addItems([await partPng(), await partPng({ defect })]);
    const events = fx.pubsub.subscribe('predictionResult', fx.model.id);
    await events.ready;
    const [a, b] = await inference.predict(fx.model, [clean!.id, bad!.id]);
    expect(a!.itemId).toBe(clean!.id);
    expect(a!.result).toBe('GOOD');
    expect(a!.detectedObjects).toBe(0);
    expect(b!.result).toBe('BAD');
    expect(b!.score).toBeGreaterThan(b!.threshold);
    expect(b!.detectedObjects).toBe(1);
    const boxes = await fx.store.annotationsByOwners('assessment', [b!.id]);
    expect(boxes).toHaveLength(1);
    const box = boxes[0]!;
    // Box in original pixels (128 px picture), around the 16 px defect at (80, 20).
    expect(box.xMin!).toBeLessThanOrEqual(80);
    expect(box.xMax!).toBeGreaterThanOrEqual(96);
    expect(box.yMin!).toBeLessThanOrEqual(20);
    expect(box.yMax!).toBeGreaterThanOrEqual(36);
    expect(box.xMax! - box.xMin!).toBeLessThan(40);
    expect(box.score!).toBeGreaterThan(0.1);
    expect(b!.detectionAccuracy!).toBeGreaterThan(50);

    const got = [(await events.next()).value, (await events.next()).value];
    expect(got.map((e) => e.assessmentId).sort()).toEqual([a!.id, b!.id].sort());
    await events.return();
  });

  it('judges every picture of an item: BAD when any is, boxes naming their picture, one heatmap per picture; background jobs too', async () => {
    const pictures = [await partPng(), await partPng({ defect: { x: 80, y: 20, size: 16 } }), await partPng()];
    const [item] = await fx.store.addItems([
      {
        name: 'three sides',
        targetId: fx.target.id,
        type: 'PREDICTION',
        good: null,
        images: await Promise.all(
          pictures.map(async (png, i) => ({
            name: `side-${i}.png`,
            blob: await fx.store.blobs.put(png),
            width: 128,
            height: 128,
            fileSize: png.byteLength,
            contentType: 'image/png',
          })),
        ),
      },
    ]);
    const [a] = await inference.predict(fx.model, [item!.id]);
    expect([a!.result, a!.detectedObjects]).toEqual(['BAD', 1]);
    const [box] = await fx.store.annotationsByOwners('assessment', [a!.id]);
    expect(box!.notes).toBe('picture 2: side-1.png');
    expect(box!.xMin!).toBeLessThanOrEqual(80);
    expect(box!.xMax!).toBeGreaterThanOrEqual(96);
    const heatmaps = await fx.store.imagesByOwners('assessment', [a!.id]);
    expect(heatmaps.map((h) => h.name).sort()).toEqual(['heatmap-2.png', 'heatmap-3.png', 'heatmap.png']);
    // The defect's picture is red at the defect; the clean first picture is not.
    const red = async (name: string) => {
      const png = await inference.renderImage(heatmaps.find((h) => h.name === name)!);
      const { data, info } = await sharp(png!.body).raw().toBuffer({ resolveWithObject: true });
      const p = (28 * info.width + 88) * info.channels;
      return data[p]! - data[p + 2]!;
    };
    expect(await red('heatmap-2.png')).toBeGreaterThan(0);
    expect(await red('heatmap.png')).toBeLessThan(0);
    // A background job judges the item the same way.
    const errors: string[] = [];
    expect(await inference.predictEach(fx.model, [item!.id], { jobId: 'job-multi', onError: (_id, m) => void errors.push(m) })).toBe(1);
    const [b] = await fx.store.assessmentsByJob('job-multi');
    expect([b!.result, b!.detectedObjects, errors]).toEqual(['BAD', 1, []]);
    expect(b!.score).toBeCloseTo(a!.score, 6);
  });

  it('a picture the decode pool cannot read fails its prediction with the reason; the pool goes on with the next', async () => {
    const [good] = await fx.addItems([await partPng()]);
    const broken = Buffer.concat([(await partPng()).subarray(0, 200), Buffer.alloc(200)]);
    const [bad] = await fx.store.addItems([
      {
        name: 'broken',
        targetId: fx.target.id,
        type: 'PREDICTION',
        good: null,
        images: [
          { name: 'broken.png', blob: await fx.store.blobs.put(broken), width: 128, height: 128, fileSize: broken.byteLength, contentType: 'image/png' },
        ],
      },
    ]);
    await expect(inference.predict(fx.model, [bad!.id])).rejects.toThrow(/png|read|corrupt|truncated|input/i);
    const errors: string[] = [];
    const stored = await inference.predictEach(fx.model, [bad!.id, good!.id], { jobId: 'job-broken', onError: (_id, m) => void errors.push(m) });
    expect(stored).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^the picture could not be judged: /);
    const [again] = await inference.predict(fx.model, [good!.id]);
    expect(again!.result).toBe('GOOD');
  });

  it('renders the heatmap overlay only when asked for, at the size it declares', async () => {
    const [bad] = await fx.addItems([await partPng({ defect: { x: 40, y: 40, size: 20 } })]);
    const [a] = await inference.predict(fx.model, [bad!.id]);
    const [image] = await fx.store.imagesByOwners('assessment', [a!.id]);
    expect(image!.contentType).toBe('image/png');
    const png = await inference.renderImage(image!);
    expect(png!.contentType).toBe('image/png');
    const meta = await sharp(png!.body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', image!.width, image!.height]);
    // The defect area is red-ish in the overlay, a clean corner is blue-ish.
    const { data, info } = await sharp(png!.body).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    const [r1, , b1] = at(50, 50);
    const [r2, , b2] = at(5, 120);
    expect(r1!).toBeGreaterThan(b1!);
    expect(b2!).toBeGreaterThan(r2!);
    // Ordinary images are not this runtime's business.
    const [itemImage] = await fx.store.imagesByOwners('item', [bad!.id]);
    expect(await inference.renderImage(itemImage!)).toBeNull();
  });

  it('redraws a heatmap after a restart (maps are not kept) with the same pixels', async () => {
    const [bad] = await fx.addItems([await partPng({ defect: { x: 40, y: 40, size: 20 } })]);
    const [a] = await inference.predict(fx.model, [bad!.id]);
    const [image] = await fx.store.imagesByOwners('assessment', [a!.id]);
    const first = await inference.renderImage(image!);
    const fresh = await createInferenceService({ store: fx.store, pubsub: fx.pubsub, config: fx.config, log: fx.log });
    const again = await fresh.renderImage(image!);
    await fresh.close();
    expect(Buffer.compare(first!.body, again!.body)).toBe(0);
  });

  it('judges later predictions with changed predict parameters, without reloading', async () => {
    const [bad] = await fx.addItems([await partPng({ defect: { x: 40, y: 40, size: 12 } })]);
    const [first] = await inference.predict(fx.model, [bad!.id]);
    expect(first!.result).toBe('BAD');
    const raised = await fx.store.updateModel(fx.model.id, {
      predictParameters: { ...fx.model.predictParameters, threshold: first!.score + 0.01 },
    });
    const [second] = await inference.predict(raised, [bad!.id]);
    expect(second!.result).toBe('GOOD');
    expect(second!.score).toBeCloseTo(first!.score, 6);
    // A large minimum area drops the region: the picture counts as GOOD, the score stays.
    const areaOnly = await fx.store.updateModel(fx.model.id, {
      predictParameters: { threshold: 0.1, ignoreOuter: 0, minDetectedArea: 128 * 128 },
    });
    const [third] = await inference.predict(areaOnly, [bad!.id]);
    expect([third!.result, third!.detectedObjects]).toEqual(['GOOD', 0]);
  });

  it('runs concurrent predictions of one model through the batcher, each once, in batches of at most the cap', async () => {
    // Calibration may pick a smaller cap on a busy CPU; this test is about the batcher itself.
    await inference.close();
    inference = await createInferenceService({
      store: fx.store,
      pubsub: fx.pubsub,
      config: { ...fx.config, batchCalibration: false, maxBatchSize: 8 },
      log: fx.log,
    });
    const items = await fx.addItems(await Promise.all(Array.from({ length: 12 }, (_, i) => partPng({ defect: { x: 8 * i, y: 8, size: 8 } }))));
    await inference.warmUp(fx.model);
    // One picture first: the decode pool's threads are started (they load sharp) before the burst.
    await inference.predict(fx.model, [items[0]!.id]);
    const before = inference.batchSizes().length;
    const results = await Promise.all(items.map((it) => inference.predict(fx.model, [it.id])));
    expect(results.map((r) => r[0]!.itemId)).toEqual(items.map((i) => i.id));
    const ran = inference.batchSizes().slice(before);
    expect(ran.reduce((a, b) => a + b, 0)).toBe(12);
    expect(Math.max(...ran)).toBeLessThanOrEqual(8);
    // Whether two of them share a run depends on when their decodes finish (on a loaded machine
    // each may finish after the previous run): test/batcher.test.ts checks the gathering itself.
  });

  it('runs each prediction on its own when batching is off', async () => {
    await inference.close();
    inference = await createInferenceService({
      store: fx.store,
      pubsub: fx.pubsub,
      config: { ...fx.config, batching: false },
      log: fx.log,
    });
    const items = await fx.addItems(await Promise.all(Array.from({ length: 6 }, () => partPng())));
    await Promise.all(items.map((it) => inference.predict(fx.model, [it.id])));
    expect(inference.batchSizes()).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('keeps sessions within the memory bound, reloading an evicted model when it is used again', async () => {
    await inference.close();
    const lines: string[] = [];
    const log = { ...fx.log, info: (_o: unknown, msg?: string) => void lines.push(msg ?? '') };
    // Room for one model file only.
    const onnxSize = (await fx.store.blobs.get(fx.model.onnxBlob!)).byteLength;
    inference = await createInferenceService({ store: fx.store, pubsub: fx.pubsub, config: { ...fx.config, sessionCacheBytes: onnxSize + 10 }, log });
    const other = await fx.store.updateModel((await fx.store.createModel({ ...fx.model, name: 'other', status: 'READY', trainItemIds: [] })).id, {
      onnxBlob: await fx.store.blobs.put(goldenOnnx((await decodeToTensor(await partPng({ defect: { x: 0, y: 0, size: 30 } }), spec)).data)),
      inputSpec: { ...spec },
    });
    const [item] = await fx.addItems([await partPng({ defect: { x: 60, y: 60, size: 12 } })]);
    const a1 = await inference.predict(fx.model, [item!.id]);
    await inference.predict(other, [item!.id]);
    const a2 = await inference.predict(fx.model, [item!.id]);
    expect(a2[0]!.score).toBe(a1[0]!.score);
    expect(lines.filter((l) => l === 'inference: session loaded')).toHaveLength(3);
    expect(lines.filter((l) => l === 'inference: session evicted (memory bound)')).toHaveLength(2);
  });
  it('predicts again after the inference worker lost its sessions (a session-worker restart), instead of failing for good', async () => {
    const [item] = await fx.addItems([await partPng()]);
    const a1 = await inference.predict(fx.model, [item!.id]);
    // What the pipeline worker does when its session worker dies: every model is dropped there,
    // while the main thread's session cache still lists the model as loaded.
    const worker = (inference as unknown as { worker: { call(m: unknown): Promise<unknown> } }).worker;
    await worker.call({ type: 'unload', modelId: fx.model.id });
    const a2 = await inference.predict(fx.model, [item!.id]);
    expect(a2[0]!.score).toBe(a1[0]!.score);
    const a3 = await inference.predict(fx.model, [item!.id]);
    expect(a3[0]!.score).toBe(a1[0]!.score);
  });
});
