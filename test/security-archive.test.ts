import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AppError } from '../src/errors.ts';
import { decodeToTensor } from '../src/runtime/images/tensor.ts';
import { defaultArchiveLimits, importModelArchive } from '../src/runtime/models/archive.ts';
import { goldenOnnx, partPng, spec } from './inference-fixtures.ts';
import { newModel } from './model-fixtures.ts';
import { deferred } from './realtime-helpers.ts';
import { startRestServer, type RestServer } from './rest-helpers.ts';
import { archiveOf, endlessLoopOnnx, manifest, memoryBombOnnx, zip } from './security-fixtures.ts';

/** Attacks 3, 5, 8 and 9 of issue 9: hostile model archives. */
let s: RestServer;
let golden: Uint8Array;
beforeAll(async () => {
  // Budgets small enough for a test, large enough for a legit model's check on a loaded machine.
  s = await startRestServer({ MODEL_VERIFY_TIMEOUT_MS: '10000', MODEL_VERIFY_MEMORY_MB: '400' });
  golden = goldenOnnx((await decodeToTensor(await partPng(), spec)).data);
});
afterAll(() => s?.stop());

const importing = (archive: Buffer) => {
  const form = new FormData();
  form.append('models', new Blob([new Uint8Array(archive)], { type: 'application/zip' }), 'models.zip');
  return fetch(`${s.url}/api/v1/models/import`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` }, body: form });
};
const modelCount = async () => (await s.server.services.store.listModels({}, { first: 1000 })).totalCount;

test('a model that never finishes is refused at its time budget, the gateway answering meanwhile, one import at a time', async () => {
  const before = await modelCount();
  let settled = false;
  const pending = importing(await archiveOf(endlessLoopOnnx())).finally(() => (settled = true));
  // The check runs elsewhere: this process answers while it runs.
  const health = await fetch(`${s.url}/health`);
  expect(health.status).toBe(200);
  const read = await s.call('GET', '/api/v1/models/');
  expect(read.status).toBe(200);
  // A second import waits for nobody: it is refused while the first runs.
  const second = await importing(await archiveOf(golden));
  expect(settled).toBe(false);
  expect(second.status).toBe(429);
  expect(second.headers.get('retry-after')).toBeTruthy();

  const res = await pending;
  expect(res.status).toBe(422);
  expect((await res.json()).errors.detail).toMatch(/m\/model\.onnx: checking the model took longer than 10000 ms/);
  expect(await modelCount()).toBe(before);

  // And a legit model passes the same budgets.
  const good = await importing(await archiveOf(golden));
  expect(good.status).toBe(200);
  expect(await modelCount()).toBe(before + 1);
});

test('a tiny model that allocates gigabytes is refused at its memory budget', async () => {
  const before = await modelCount();
  const res = await importing(await archiveOf(memoryBombOnnx(2048)));
  expect(res.status).toBe(422);
  expect((await res.json()).errors.detail).toMatch(/used more than 400 MiB of memory/);
  expect(await modelCount()).toBe(before);
});

describe('archive bombs and oversize declarations', () => {
  const refused = async (archive: Buffer, message: RegExp, limits = defaultArchiveLimits) => {
    const { store } = s.server.services;
    const target = (await store.defaultTarget()) ?? (await store.createTarget('default', []));
    const before = await modelCount();
    const err = await importModelArchive({ store, provider: 'cpu', limits }, archive, target.id).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toMatch(message);
    expect(await modelCount()).toBe(before);
    // Nothing of the unpacked archive is left behind.
    expect(fs.readdirSync(store.blobs.tmpDir).filter((f) => f.startsWith('import-'))).toEqual([]);
  };

  test('a small zip that unpacks past the model limit stops at the limit', async () => {
    const zeros = new Uint8Array(64 * 1024 * 1024);
    const bomb = await zip({ 'm/manifest.json': manifest(zeros), 'm/model.onnx': zeros });
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    await refused(bomb, /"m\/model\.onnx" is 67108864 bytes; at most 8388608/, { ...defaultArchiveLimits, maxModelBytes: 8 * 1024 * 1024 });
  });

  test('a manifest declaring an 8192x8192 input is refused before the model is loaded', async () => {
    await refused(await archiveOf(golden, { input: { ...spec, width: 8192, height: 8192 } }), /8192x8192 input; at most 4194304 pixels/);
  });

  test('manifest stats that are not stats, and 200,000 parameters, are refused', async () => {
    await refused(await archiveOf(golden, { stats: { accuracy: 'perfect' } }), /stats/);
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, 'x']));
    await refused(await archiveOf(golden, { algorithm: { name: 'x', version: '1', parameters: many(1000) } }), /at most 200 parameters/);
    await refused(
      await archiveOf(golden, { algorithm: { name: 'x', version: '1', parameters: many(200_000) } }),
      /manifest\.json" is \d+ bytes; at most 1048576/,
    );
  });
});

test('a model row with bad stats does not fail the list for everybody', async () => {
  const { store } = s.server.services;
  const target = (await store.defaultTarget()) ?? (await store.createTarget('default', []));
  const [algorithm] = await store.listAlgorithms();
  const bad = await store.createModel(newModel({ name: 'bad-stats', algorithmId: algorithm!.id, targetId: target.id }));
  await store.updateModel(bad.id, { stats: { accuracy: 'x', precision: 7 } as never });
  const res = await s.call('GET', '/api/v1/models/');
  expect(res.status).toBe(200);
  const listed = (await res.json()).data.find((m: { name: string }) => m.name === 'bad-stats');
  expect(listed.stats.accuracy).toBeNull();
  const gql = await s.gql('{ models(first: 100) { edges { node { name stats { accuracy } } } } }');
  expect(gql.errors, JSON.stringify(gql.errors)).toBeUndefined();
});

test('models of one import are written in one transaction: a failing row leaves none', async () => {
  const { store } = s.server.services;
  const target = (await store.defaultTarget()) ?? (await store.createTarget('default', []));
  const [algorithm] = await store.listAlgorithms();
  const before = await modelCount();
  const ok = { model: newModel({ name: 'first', algorithmId: algorithm!.id, targetId: target.id }), patch: {} };
  const broken = { model: newModel({ name: 'second', algorithmId: algorithm!.id, targetId: 'no-such-target' }), patch: {} };
  await expect(store.createModels([ok, ok, broken])).rejects.toThrow(/Target/);
  expect(await modelCount()).toBe(before);
});

test('a shutdown during a model check ends at once, the check killed', async () => {
  const extra = await startRestServer({ MODEL_VERIFY_TIMEOUT_MS: '600000' });
  const form = new FormData();
  form.append('models', new Blob([new Uint8Array(await archiveOf(endlessLoopOnnx()))]), 'models.zip');
  const started = deferred();
  const res = fetch(`${extra.url}/api/v1/models/import`, { method: 'POST', headers: { authorization: `Bearer ${extra.token}` }, body: form }).catch(() => null);
  // The upload is in once the staging file exists.
  const tmp = path.join(extra.dir, 'tmp');
  const watch = setInterval(() => {
    if (fs.existsSync(tmp) && fs.readdirSync(tmp).some((f) => f.startsWith('import-'))) started.resolve();
  }, 20);
  await started.promise;
  clearInterval(watch);
  await extra.stop();
  await res;
});
