import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import yazl from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.ts';
import { decodeToTensor } from '../src/runtime/images/tensor.ts';
import { importModelArchive, readModelArchive } from '../src/runtime/models/archive.ts';
import type { ModelManifest } from '../src/runtime/onnx/contract.ts';
import { goldenOnnx, partPng, spec } from './inference-fixtures.ts';
import { addPredictionItems, seedGoldenModel, startServer, type TestServer } from './predict-server.ts';

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

function manifest(onnx: Uint8Array, over: Partial<ModelManifest> = {}): string {
  const m: ModelManifest = {
    formatVersion: 1,
    name: 'wrapped',
    version: '1',
    algorithm: { name: 'My own', version: '0.1', parameters: {} },
    input: spec,
    predictParameters: { threshold: 0.1, ignoreOuter: 0, minDetectedArea: 0 },
    stats: null,
    okImageCount: 0,
    ngImageCount: 0,
    trainingTime: null,
    createdAt: '2024-01-01T00:00:00Z',
    checksums: { 'model.onnx': sha(onnx) },
    ...over,
  };
  return JSON.stringify(m);
}

const blobCount = (dir: string) => fs.readdirSync(path.join(dir, 'blobs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

describe('model archives', () => {
  let a: TestServer;
  let b: TestServer;
  let golden: Uint8Array;
  beforeAll(async () => {
    [a, b] = await Promise.all([startServer(), startServer()]);
    golden = goldenOnnx((await decodeToTensor(await partPng(), spec)).data);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('exports from one server and imports into another, which predicts the same scores', async () => {
    const { model } = await seedGoldenModel(a, { threshold: 0.07 });
    const exp = await a.gql(`mutation($ids: [ID!]!) { exportModels(ids: $ids) { url expiresAt } }`, { ids: [model.id] });
    expect(exp.errors).toBeUndefined();
    expect(Date.parse(exp.data.exportModels.expiresAt)).toBeGreaterThan(Date.now());
    const res = await fetch(exp.data.exportModels.url);
    expect(res.headers.get('content-type')).toBe('application/zip');
    const archive = Buffer.from(await res.arrayBuffer());
    const [entry] = await readModelArchive(archive);
    expect(entry!.folder).toBe(model.id);
    expect(entry!.manifest.checksums['model.onnx']).toBe(sha(entry!.onnx));

    const imp = await b.upload(
      `mutation($file: File!) { importModels(file: $file) { id name status algorithm { name } predictParameters { threshold }
        stats { accuracy sensitivity { kind size contrast tested caught } } } }`,
      { file: null },
      { file: { name: 'models.zip', body: archive, type: 'application/zip' } },
    );
    expect(imp.errors).toBeUndefined();
    const [imported] = imp.data.importModels;
    expect(imported).toMatchObject({ name: 'golden', status: 'READY', predictParameters: { threshold: 0.07 }, stats: { accuracy: 1 } });
    // what the model catches travels with it, read at the imported threshold (0.08 and 0.2 of 0.05, 0.08, 0.2)
    expect(imported.stats.sensitivity).toEqual([{ kind: 'SPOT', size: 1, contrast: 2, tested: 3, caught: 2 }]);

    const pics = [await partPng(), await partPng({ defect: { x: 20, y: 70, size: 18 } }), await partPng({ defect: { x: 100, y: 5, size: 6 } })];
    const scores = async (ts: TestServer, modelId: string) => {
      const ids = await addPredictionItems(ts, pics);
      const r = await ts.gql(`mutation($m: ID!, $ids: [ID!]!) { predict(modelId: $m, itemIds: $ids) { score result detectedObjects } }`, {
        m: modelId,
        ids,
      });
      expect(r.errors).toBeUndefined();
      return r.data.predict;
    };
    const [sa, sb] = [await scores(a, model.id), await scores(b, imported.id)];
    expect(sb).toEqual(sa);
    expect(sa.map((x: { result: string }) => x.result)).toEqual(['GOOD', 'BAD', 'BAD']);
  });

  describe('refuses a bad archive with a clear message and stores nothing', () => {
    const refused = async (archive: Buffer, message: RegExp) => {
      const { store } = b.server.services;
      const target = (await store.defaultTarget()) ?? (await store.createTarget('default', []));
      const before = { models: (await store.listModels({}, { first: 100 })).totalCount, blobs: blobCount(b.dir) };
      const err = await importModelArchive({ store, provider: 'cpu' }, archive, target.id).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('BAD_USER_INPUT');
      expect((err as AppError).message).toMatch(message);
      expect({ models: (await store.listModels({}, { first: 100 })).totalCount, blobs: blobCount(b.dir) }).toEqual(before);
    };

    it('a corrupt zip', async () => {
      const good = await zip({ 'm/manifest.json': manifest(golden), 'm/model.onnx': golden });
      await refused(good.subarray(0, good.length - 30), /not a readable zip archive/);
      await refused(Buffer.from('definitely not a zip file, just text'), /not a readable zip archive/);
    });

    it('a zip-slip entry', async () => {
      const evil = await zip({ 'm/manifest.json': manifest(golden), 'm/model.onnx': golden, 'xx/evil.txt': 'pwned' });
      // yazl refuses such names itself, so rename the entry in place (local header and directory).
      const patched = Buffer.from(evil.toString('latin1').replaceAll('xx/evil.txt', '../evil.txt'), 'latin1');
      await refused(patched, /"\.\.\/evil\.txt" points outside its folder/);
      const abs = Buffer.from(evil.toString('latin1').replaceAll('xx/evil.txt', '/x/evil.txt'), 'latin1');
      await refused(abs, /"\/x\/evil\.txt" points outside its folder/);
      const nested = await zip({ 'm/manifest.json': manifest(golden), 'm/model.onnx': golden, 'm/sub/model.onnx': golden });
      await refused(nested, /archive entry "m\/sub\/model\.onnx" is not allowed/);
    });

    it('a mismatched checksum', async () => {
      const other = goldenOnnx(new Float32Array(64 * 64));
      const archive = await zip({ 'm/manifest.json': manifest(other), 'm/model.onnx': golden });
      await refused(archive, /checksum mismatch for m\/model\.onnx/);
    });

    it('an ONNX model with the wrong outputs', async () => {
      const wrong = goldenOnnx((await decodeToTensor(await partPng(), spec)).data, 64, 4, { outputs: ['heat', 'score'] });
      const archive = await zip({ 'm/manifest.json': manifest(wrong), 'm/model.onnx': wrong });
      await refused(archive, /m\/model\.onnx: the model must have an output named "anomaly_map" \(it has: heat, score\)/);
    });

    it('an invalid manifest, and a good model next to a bad one (all or nothing)', async () => {
      await refused(
        await zip({ 'm/manifest.json': manifest(golden, { input: { ...spec, width: 0 } }), 'm/model.onnx': golden }),
        /m\/manifest\.json is invalid: input\.width/,
      );
      const wrongSize = await zip({
        'ok/manifest.json': manifest(golden),
        'ok/model.onnx': golden,
        'bad/manifest.json': manifest(golden, { input: { ...spec, width: 32, height: 32 } }),
        'bad/model.onnx': golden,
      });
      await refused(wrongSize, /bad\/model\.onnx: input "images" has height 64, the manifest declares 32/);
    });
  });

  it('imports a bare ONNX model wrapped by hand under the "Imported ONNX model" algorithm', async () => {
    const { store } = b.server.services;
    const target = (await store.defaultTarget())!;
    const archive = await zip({ 'wrapped/manifest.json': manifest(golden), 'wrapped/model.onnx': golden });
    const [m] = await importModelArchive({ store, provider: 'cpu' }, archive, target.id);
    expect(m!.status).toBe('READY');
    const [alg] = await store.algorithmsByIds([m!.algorithmId]);
    expect(alg!.name).toBe('Imported ONNX model');
  });
});
