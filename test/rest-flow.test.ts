import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImage, toPng } from '../bench/synthetic.ts';
import { signLicense } from '../src/runtime/license/license.ts';
import { startRestServer, type RestServer } from './rest-helpers.ts';

// The REST life cycle a legacy client runs: upload, train, predict, read results, export,
// import, license. Waits follow the server's own pub/sub events, never timers.

const vendor = generateKeyPairSync('ed25519');
let srv: RestServer;

const body = async (res: Response) => (await res.json()) as any;

async function picture(seed: number, defect = false): Promise<Blob> {
  const img = generateImage('plate', { seed, size: 48, defect: defect ? { kind: 'spot', size: 'large', contrast: 'high' } : null });
  return new Blob([new Uint8Array(await toPng(img))], { type: 'image/png' });
}

async function upload(fields: Record<string, string>, files: Blob[], prefix: string): Promise<string[]> {
  const form = new FormData();
  files.forEach((f, i) => form.append('files', f, `${prefix}-${i}.png`));
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  const res = await srv.call('POST', '/api/v1/items/', { form });
  expect(res.status).toBe(201);
  return (await body(res)).data.item_ids;
}

/** Resolves once the model's training ends (READY, FAILED or CANCELLED). */
async function trainingEnd(modelId: string): Promise<string> {
  const { pubsub, store } = srv.server.services;
  const sub = pubsub.subscribe('trainingProgress', modelId);
  try {
    await sub.ready;
    const [now] = await store.modelsByIds([modelId]);
    if (now && ['READY', 'FAILED', 'CANCELLED'].includes(now.status)) return now.status;
    for await (const ev of sub) if (['READY', 'FAILED', 'CANCELLED'].includes(ev.status)) return ev.status;
    throw new Error('subscription ended');
  } finally {
    await sub.return();
  }
}

beforeAll(async () => {
  srv = await startRestServer({
    LICENSE_PUBLIC_KEY: vendor.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  });
  await srv.gql(`mutation { createTarget(name: "plates") { id } }`);
});

afterAll(async () => {
  await srv?.stop();
});

describe('REST life cycle', () => {
  let modelId: string;
  let predictionIds: string[];

  it('trains a model from uploaded OK pictures (train answers at once, GET /models/{id} shows READY)', async () => {
    const ok = await Promise.all([1, 2, 3, 4, 5, 6].map((s) => picture(s)));
    const itemIds = await upload({ training: 'true', good: 'true' }, ok, 'ok');
    const { data: algorithms } = await body(await srv.call('GET', '/api/v1/algorithms/'));
    const pm = algorithms.find((a: any) => a.algorithm_id === 'pattern-matching');
    const size = pm.parameters.find((p: any) => p.name === 'input_size');

    const res = await srv.call('POST', '/api/v1/algorithms/pattern-matching/train', {
      json: { name: 'rest-model', item_ids: itemIds, override_params: [{ algorithm_parameter_id: size.algorithm_parameter_id, value: '48' }] },
    });
    expect(res.status).toBe(200);
    const queued = (await body(res)).data;
    expect(queued).toMatchObject({ name: 'rest-model', algorithm_id: 'pattern-matching', ok_img_count: 6 });
    expect(['QUEUED', 'TRAINING']).toContain(queued.status);
    modelId = queued.model_id;

    expect(await trainingEnd(modelId)).toBe('READY');
    const ready = (await body(await srv.call('GET', `/api/v1/models/${modelId}`))).data;
    // the target's first model becomes its active one: the original API has no way to activate
    expect(ready).toMatchObject({ status: 'READY', model_id: modelId, active: true });
    expect(Number.isInteger(ready.training_time)).toBe(true);
  });

  it('a second model of the target is not activated unasked: the line keeps judging with the first', async () => {
    const { data: items } = await body(await srv.call('GET', '/api/v1/items/?item_type=training'));
    const res = await srv.call('POST', '/api/v1/algorithms/pattern-matching/train', {
      json: { name: 'second', item_ids: items.items.map((i: any) => i.item_id) },
    });
    const second = (await body(res)).data.model_id;
    expect(await trainingEnd(second)).toBe('READY');
    expect((await body(await srv.call('GET', `/api/v1/models/${second}`))).data.active).toBe(false);
    expect((await body(await srv.call('GET', '/api/v1/models/active'))).data.model_id).toBe(modelId);
    await srv.call('DELETE', `/api/v1/models/?model_ids=${second}`);
  });

  it('predicts uploaded prediction items in the background with the "active" model and lists their assessments', async () => {
    predictionIds = await upload({ training: 'false', model_id: modelId }, [await picture(50), await picture(51, true)], 'new');

    const { pubsub } = srv.server.services;
    const results = pubsub.subscribe('predictionResult', modelId);
    await results.ready;
    const res = await srv.call('POST', '/api/v1/models/active/predict', { json: { item_ids: predictionIds } });
    expect(res.status).toBe(200);
    const job = (await body(res)).data;
    expect(job).toMatchObject({ item_ids: predictionIds, model_id: modelId, model_version: expect.any(String) });
    const seen = new Set<string>();
    for await (const ev of results) {
      seen.add(ev.itemId);
      if (seen.size === predictionIds.length) break;
    }
    await results.return();

    const list = (await body(await srv.call('GET', `/api/v1/items/?item_type=prediction&model_id=${modelId}`))).data;
    expect(list.items.map((i: any) => i.item_id).sort()).toEqual([...predictionIds].sort());
    for (const item of list.items) {
      expect(item.assessments).toEqual([
        expect.objectContaining({ model_id: modelId, result: expect.stringMatching(/^(GOOD|BAD)$/), images: expect.any(Array) }),
      ]);
    }
    await expect(srv.call('POST', '/api/v1/models/nope/predict', { json: { item_ids: predictionIds } }).then((r) => r.status)).resolves.toBe(404);
    await expect(srv.call('POST', `/api/v1/models/${modelId}/predict`, { json: { item_ids: [] } }).then((r) => r.status)).resolves.toBe(422);
  });

  it('answers the model results as CSV', async () => {
    const res = await srv.call('POST', `/api/v1/targets/model/results?model_ids=${modelId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await res.text()).trim().split(/\r?\n/);
    expect(lines.length).toBe(1 + predictionIds.length);
    // The same enum values as the JSON answers.
    const header = lines[0]!.split(',');
    const results = lines.slice(1).map((l) => l.split(',')[header.indexOf('result')]);
    const json = (await body(await srv.call('GET', `/api/v1/items/?item_type=prediction&model_id=${modelId}`))).data.items;
    expect(results.sort()).toEqual(json.map((i: any) => i.assessments[0].result).sort());
    expect((await srv.call('POST', '/api/v1/targets/model/results')).status).toBe(422);
  });

  it('exports a model as a zip and imports it back', async () => {
    const res = await srv.call('POST', '/api/v1/models/export', { json: { model_ids: [modelId] } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    const zip = new Uint8Array(await res.arrayBuffer());
    expect([...zip.slice(0, 2)]).toEqual([0x50, 0x4b]);

    const form = new FormData();
    form.set('models', new Blob([zip], { type: 'application/zip' }), 'models.zip');
    const imported = await srv.call('POST', '/api/v1/models/import', { form });
    expect(imported.status).toBe(200);
    const models = (await body(imported)).data;
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({ name: 'rest-model', algorithm_id: 'pattern-matching', status: 'READY' });

    const junk = new FormData();
    junk.set('models', new Blob(['not a zip']), 'models.zip');
    expect((await srv.call('POST', '/api/v1/models/import', { form: junk })).status).toBe(422);
    expect((await srv.call('POST', '/api/v1/models/export', { json: { model_ids: ['missing'] } })).status).toBe(404);
  });

  it('sets a license signed for this node and answers its expiry', async () => {
    const { hash_id } = (await body(await srv.call('POST', '/api/v1/utils/node_hash'))).data;
    const license = signLicense(
      { licensee: 'ACME', nodeHash: hash_id, expiresAt: '2030-01-01T00:00:00.000Z', features: ['training'] },
      vendor.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    const form = new FormData();
    form.set('license_data', new Blob([JSON.stringify(license)]), 'license.json');
    const res = await srv.call('POST', '/api/v1/utils/', { form });
    expect(res.status).toBe(200);
    expect((await body(res)).data).toMatchObject({ license_expiry: '2030-01-01T00:00:00.000Z', valid: true });

    const forged = await srv.call('POST', '/api/v1/utils/', {
      json: { license_data: JSON.stringify({ ...license, payload: { ...license.payload, licensee: 'Other' } }) },
    });
    expect(forged.status).toBe(422);
  });
});
