import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { png, startRestServer, type RestServer } from './rest-helpers.ts';
import { newModel } from './model-fixtures.ts';

let srv: RestServer;
let targetId: string;
/** The target's REST id (its integer key). */
let targetKey: number;

const body = async (res: Response) => (await res.json()) as any;

async function expectRestError(res: Response, status: number) {
  expect(res.status).toBe(status);
  const { errors } = await body(res);
  expect(errors).toMatchObject({ status, source: { pointer: expect.any(String) } });
  expect(typeof errors.title).toBe('string');
  expect(errors.detail).toEqual(expect.any(String));
  return errors;
}

beforeAll(async () => {
  srv = await startRestServer({ UPLOAD_MAX_FILES: '3', UPLOAD_MAX_FILE_BYTES: '50000' });
  const created = await srv.gql(`mutation { createTarget(name: "bolts", preprocessing: [{ name: "crop", active: true, config: "0,0,32,32" }]) { id } }`);
  targetId = created.data.createTarget.id;
  targetKey = (await srv.server.services.store.targetsByIds([targetId]))[0]!.key;
  await srv.gql(`mutation ($id: ID!) { setDefaultTarget(id: $id) { id } }`, { id: targetId });
});

afterAll(async () => {
  await srv?.stop();
});

describe('REST auth and errors', () => {
  it('answers 401 with a BaseError body and WWW-Authenticate when the token is missing or forged', async () => {
    const missing = await srv.call('GET', '/api/v1/targets/', { auth: null });
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const errors = await expectRestError(missing, 401);
    expect(errors.title).toBe('Unauthorized');
    await expectRestError(await srv.call('GET', '/api/v1/targets/', { auth: 'a.b.c' }), 401);
  });

  it('answers 403 when a read-only client tries to change something', async () => {
    const reader = await srv.server.services.auth.createClient('read', 'reader');
    const tokenRes = await fetch(`${srv.url}/api/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: reader.clientId, client_secret: reader.clientSecret }),
    });
    const readToken = (await body(tokenRes)).access_token as string;
    expect((await srv.call('GET', '/api/v1/targets/', { auth: readToken })).status).toBe(200);
    await expectRestError(await srv.call('POST', `/api/v1/targets/${targetKey}`, { auth: readToken }), 403);
  });

  it('answers 404 for unknown paths and 405 with Allow for a known path and another method', async () => {
    await expectRestError(await srv.call('GET', '/api/v1/nothing-here'), 404);
    const res = await srv.call('PUT', '/api/v1/targets/');
    expect(res.headers.get('allow')).toBe('GET');
    await expectRestError(res, 405);
  });
});

describe('REST targets and algorithms', () => {
  it('lists, reads and sets the default target in the REST shape, by its integer target_id', async () => {
    const list = await body(await srv.call('GET', '/api/v1/targets/'));
    expect(list.data).toContainEqual({
      target_id: targetKey,
      name: 'bolts',
      is_default: true,
      preprocessing: [{ name: 'crop', active: true, config: '0,0,32,32' }],
    });
    expect(Number.isInteger(targetKey)).toBe(true);
    const one = await body(await srv.call('GET', `/api/v1/targets/${targetKey}`));
    expect(one.data.target_id).toBe(targetKey);
    // The GraphQL id names the same target (links copied from the dashboard).
    expect((await body(await srv.call('GET', `/api/v1/targets/${targetId}`))).data.target_id).toBe(targetKey);
    const missing = await expectRestError(await srv.call('GET', '/api/v1/targets/99999'), 404);
    expect(missing.detail).toBe('Target 99999 does not exist');

    const other = (await srv.gql(`mutation { createTarget(name: "nuts") { id restId } }`)).data.createTarget;
    expect(other.restId).toBe(targetKey + 1);
    const set = await srv.call('POST', `/api/v1/targets/${other.restId}`);
    expect(set.status).toBe(200);
    expect((await body(set)).data).toMatchObject({ target_id: other.restId, is_default: true });
    expect((await body(await srv.call('GET', `/api/v1/targets/${targetKey}`))).data.is_default).toBe(false);
    await srv.call('POST', `/api/v1/targets/${targetKey}`);
  });

  it('lists algorithms with their parameters and reads one by id', async () => {
    const { data } = await body(await srv.call('GET', '/api/v1/algorithms/'));
    expect(data.length).toBeGreaterThan(0);
    const algorithm = data[0];
    expect(algorithm).toMatchObject({
      algorithm_id: expect.any(String),
      name: expect.any(String),
      created_at: expect.any(String),
      file_name: expect.any(String),
      class_name: expect.any(String),
    });
    const keys = data.flatMap((a: any) => a.parameters.map((p: any) => p.algorithm_parameter_id));
    expect(new Set(keys).size).toBe(keys.length);
    const gql = await srv.gql(`{ algorithms { id parameters { id restId } } }`);
    const fromGraph = gql.data.algorithms.find((a: any) => a.id === algorithm.algorithm_id).parameters.map((p: any) => p.restId);
    expect(fromGraph).toEqual(algorithm.parameters.map((p: any) => p.algorithm_parameter_id));
    expect(algorithm.parameters.length).toBeGreaterThan(0);
    expect(algorithm.parameters[0]).toMatchObject({
      algorithm_parameter_id: expect.any(Number),
      algorithm_id: algorithm.algorithm_id,
      name: expect.any(String),
      data_type: expect.any(String),
    });
    const one = await body(await srv.call('GET', `/api/v1/algorithms/${encodeURIComponent(algorithm.algorithm_id)}`));
    expect(one.data).toEqual(algorithm);
    await expectRestError(await srv.call('GET', '/api/v1/algorithms/nope'), 404);
  });
});

describe('REST items', () => {
  let itemIds: string[];

  it('adds items from multipart `files` and answers 201 with item_ids', async () => {
    const form = new FormData();
    for (let i = 0; i < 3; i++) form.append('files', new Blob([new Uint8Array(await png(i))], { type: 'image/png' }), `ok-${i}.png`);
    form.set('training', 'true');
    form.set('good', 'true');
    const res = await srv.call('POST', '/api/v1/items/', { form });
    expect(res.status).toBe(201);
    itemIds = (await body(res)).data.item_ids;
    expect(itemIds).toHaveLength(3);
  });

  it('refuses an upload without `training` or without files with 422 naming the field', async () => {
    const noTraining = new FormData();
    noTraining.append('files', new Blob([new Uint8Array(await png(1))], { type: 'image/png' }), 'a.png');
    const errors = await expectRestError(await srv.call('POST', '/api/v1/items/', { form: noTraining }), 422);
    expect(errors.message).toEqual([{ key: 'training', errors: ['training is required'] }]);
    const notBool = new FormData();
    notBool.append('files', new Blob([new Uint8Array(await png(1))], { type: 'image/png' }), 'a.png');
    notBool.set('training', 'maybe');
    const bad = await expectRestError(await srv.call('POST', '/api/v1/items/', { form: notBool }), 422);
    expect(bad.message).toEqual([{ key: 'training', errors: ['training must be true or false, got "maybe"'] }]);

    const noFiles = new FormData();
    noFiles.set('training', 'true');
    expect((await expectRestError(await srv.call('POST', '/api/v1/items/', { form: noFiles }), 422)).message[0].key).toBe('files');

    const notImage = new FormData();
    notImage.append('files', new Blob(['not a picture'], { type: 'image/png' }), 'bad.png');
    notImage.set('training', 'true');
    const res = await srv.call('POST', '/api/v1/items/', { form: notImage });
    expect([415, 422]).toContain(res.status);
  });

  it('answers 413 for an upload past the limits, also when it is chunked without a content-length', async () => {
    const boundary = 'xyzBOUNDARY';
    const head = `--${boundary}\r\ncontent-disposition: form-data; name="files"; filename="big.png"\r\ncontent-type: image/png\r\n\r\n`;
    const big = new Uint8Array(400_000);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(head));
        for (let i = 0; i < big.length; i += 50_000) controller.enqueue(big.subarray(i, i + 50_000));
        controller.enqueue(new TextEncoder().encode(`\r\n--${boundary}--\r\n`));
        controller.close();
      },
    });
    const res = await srv.fetch('/api/v1/items/', {
      method: 'POST',
      headers: { authorization: `Bearer ${srv.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await expectRestError(res, 413);
    // A body that is not multipart at all.
    await expectRestError(await srv.call('POST', '/api/v1/items/', { json: { files: [] } }), 415);
  });

  it('pages items by page/count with end_page and requires item_type', async () => {
    const page2 = await body(await srv.call('GET', '/api/v1/items/?item_type=training&count=2&page=2'));
    expect(page2.data).toMatchObject({ current_page: 2, end_page: 2, count_per_page: 2 });
    expect(page2.data.items).toHaveLength(1);
    const page1 = await body(await srv.call('GET', '/api/v1/items/?item_type=TRAINING&count=2&page=1'));
    expect(page1.data.items).toHaveLength(2);
    const seen = [...page1.data.items, ...page2.data.items].map((i: any) => i.item_id);
    expect(new Set(seen)).toEqual(new Set(itemIds));
    expect(page1.data.items[0]).toMatchObject({
      is_training_data: true,
      good: true,
      status: 'UPLOADED',
      target_id: targetKey,
      user_assessment: { result: 'GOOD', annotations: [] },
      images: [expect.objectContaining({ width: 32, height: 32 })],
    });
    expect(page1.data.items[0].user_assessment).not.toHaveProperty('label');

    const beyond = await body(await srv.call('GET', '/api/v1/items/?item_type=training&count=2&page=5'));
    expect(beyond.data.items).toEqual([]);
    await expectRestError(await srv.call('GET', '/api/v1/items/'), 422);
    const count = await expectRestError(await srv.call('GET', '/api/v1/items/?item_type=training&count=0'), 422);
    expect(count.message).toEqual([{ key: 'count', errors: ['count must be at least 1'] }]);
    const type = await expectRestError(await srv.call('GET', '/api/v1/items/'), 422);
    expect(type.message).toEqual([{ key: 'item_type', errors: ['item_type is required'] }]);
  });

  it("lists the default target's items and models (what training takes), another target's with target_id", async () => {
    const other = (await srv.gql('mutation { createTarget(name: "washers") { id } }')).data.createTarget.id as string;
    const otherKey = (await srv.server.services.store.targetsByIds([other]))[0]!.key;
    const form = new FormData();
    form.append('files', new Blob([new Uint8Array(await png(40))], { type: 'image/png' }), 'washer.png');
    form.set('training', 'true');
    form.set('target_id', String(otherKey));
    const [washer] = (await body(await srv.call('POST', '/api/v1/items/', { form }))).data.item_ids;
    const { store } = srv.server.services;
    const [algorithm] = await store.listAlgorithms();
    const washerModel = await store.createModel(newModel({ name: 'washer-model', algorithmId: algorithm!.id, targetId: other, okImageCount: 1 }));

    const listed = async (path: string) => (await body(await srv.call('GET', path))).data;
    const defaults = await listed('/api/v1/items/?item_type=training&count=100');
    expect(defaults.items.map((i: any) => i.item_id).sort()).toEqual([...itemIds].sort());
    expect(defaults.items.every((i: any) => i.target_id === targetKey)).toBe(true);
    expect((await listed(`/api/v1/items/?item_type=training&target_id=${otherKey}`)).items.map((i: any) => i.item_id)).toEqual([washer]);
    expect((await listed('/api/v1/models/')).map((m: any) => m.model_id)).not.toContain(washerModel.id);
    expect((await listed(`/api/v1/models/?target_id=${otherKey}`)).map((m: any) => m.model_id)).toEqual([washerModel.id]);
    // what a client lists it can train on
    const train = await srv.call('POST', '/api/v1/algorithms/pattern-matching/train', {
      json: { name: 'listed', item_ids: defaults.items.map((i: any) => i.item_id) },
    });
    expect(train.status).toBe(200);
    await srv.server.services.training.cancel((await body(train)).data.model_id).catch(() => {});
    await store.deleteModels([washerModel.id]);
  });

  it('reads an item, annotates it (202) and shows the annotations back', async () => {
    const id = itemIds[0]!;
    const item = await body(await srv.call('GET', `/api/v1/items/${id}`));
    expect(item.data).toMatchObject({ item_id: id, name: 'ok-0.png', assessments: [], user_assessment: { annotations: [] } });
    const image = item.data.images[0];
    const bytes = await fetch(image.url);
    expect(bytes.status).toBe(200);
    expect(Number(bytes.headers.get('content-length'))).toBe(image.file_size);

    const res = await srv.call('PATCH', `/api/v1/items/${id}`, {
      json: { annotations: [{ x_min: 1, x_max: 10, y_min: 2, y_max: 12, label: 1, notes: 'scratch' }] },
    });
    expect(res.status).toBe(202);
    const after = await body(await srv.call('GET', `/api/v1/items/${id}?show_assessments=false`));
    expect(after.data.assessments).toBeUndefined();
    expect(after.data.user_assessment.annotations).toEqual([
      expect.objectContaining({ x_min: 1, x_max: 10, y_min: 2, y_max: 12, label: 1, notes: 'scratch', annotation_id: expect.any(Number) }),
    ]);
    const [box] = after.data.user_assessment.annotations;
    const graph = await srv.gql(`query ($id: ID!) { item(id: $id) { userAssessment { annotations { id restId } } } }`, { id });
    expect(graph.data.item.userAssessment.annotations[0].restId).toBe(box.annotation_id);

    await expectRestError(await srv.call('PATCH', `/api/v1/items/${id}`, { json: { annotations: 'nope' } }), 422);
    const coordinate = await expectRestError(await srv.call('PATCH', `/api/v1/items/${id}`, { json: { annotations: [{ x_min: 'a' }] } }), 422);
    expect(coordinate.message[0].key).toBe('annotations.0.x_min');
    const swapped = await expectRestError(await srv.call('PATCH', `/api/v1/items/${id}`, { json: { annotations: [{ x_min: 9, x_max: 2 }] } }), 422);
    expect(swapped).toMatchObject({ detail: 'annotations.0: x_min (9) is greater than x_max (2)', message: [{ key: 'annotations.0' }] });
    await expectRestError(await srv.call('GET', '/api/v1/items/no-such-item'), 404);
    await expectRestError(await srv.call('PATCH', '/api/v1/items/no-such-item', { json: { annotations: [] } }), 404);
  });
});

describe('REST models', () => {
  it('lists, reads and deletes models by model_ids', async () => {
    const { store } = srv.server.services;
    const [algorithm] = await store.listAlgorithms();
    const make = (name: string) => store.createModel(newModel({ name, algorithmId: algorithm!.id, targetId, okImageCount: 3 }));
    const a = await make('first');
    const b = await make('second');

    const list = await body(await srv.call('GET', `/api/v1/models/?algorithm_id=${encodeURIComponent(algorithm!.id)}`));
    expect(list.data.map((m: any) => m.model_id)).toEqual(expect.arrayContaining([a.id, b.id]));
    const one = await body(await srv.call('GET', `/api/v1/models/${a.id}`));
    expect(one.data).toMatchObject({
      model_id: a.id,
      name: 'first',
      status: 'READY',
      algorithm_id: algorithm!.id,
      algorithm_type: expect.any(String),
      context_id: targetKey,
      ok_img_count: 3,
      ng_img_count: 0,
      active: false,
      stats: { precision: { computed: null }, recall: { computed: null } },
    });

    await expectRestError(await srv.call('DELETE', '/api/v1/models/'), 422);
    await expectRestError(await srv.call('DELETE', '/api/v1/models/?model_ids=missing'), 404);
    const del = await srv.call('DELETE', `/api/v1/models/?model_ids=${a.id}&model_ids=${b.id}`);
    expect(del.status).toBe(200);
    expect((await body(del)).data.model_ids.sort()).toEqual([a.id, b.id].sort());
    await expectRestError(await srv.call('GET', `/api/v1/models/${a.id}`), 404);
  });

  it('validates the train body with 422 before anything is queued', async () => {
    const [algorithm] = await srv.server.services.store.listAlgorithms();
    const path = `/api/v1/algorithms/${encodeURIComponent(algorithm!.id)}/train`;
    expect((await expectRestError(await srv.call('POST', path, { json: { item_ids: 'x' } }), 422)).message[0].key).toBe('item_ids');
    expect((await expectRestError(await srv.call('POST', path, { json: { override_params: [{ value: '1' }] } }), 422)).message[0].key).toBe(
      'override_params.0.algorithm_parameter_id',
    );
    const unknown = await expectRestError(await srv.call('POST', path, { json: { override_params: [{ algorithm_parameter_id: 99999, value: '1' }] } }), 422);
    expect(unknown.detail).toContain('no parameter with algorithm_parameter_id 99999');
    // Engine errors name the REST fields, never the GraphQL arguments.
    const foreign = await expectRestError(await srv.call('POST', path, { json: { item_ids: ['no-such-item'] } }), 404);
    expect(JSON.stringify(foreign)).not.toMatch(/itemIds|trainModel|createTarget/);
    await expectRestError(await srv.call('POST', '/api/v1/algorithms/nope/train', { json: {} }), 404);
  });
});

describe('upstreams when none are configured', () => {
  it('lists none and has no proxy target', async () => {
    expect((await srv.gql(`{ upstreams { name } upstream(name: "x") { name } }`)).data).toEqual({ upstreams: [], upstream: null });
    await expectRestError(await srv.call('GET', '/upstream/x/api/v1/targets/'), 404);
  });
});

describe('REST utils', () => {
  it('answers node_hash and a debug zip', async () => {
    const hash = await body(await srv.call('POST', '/api/v1/utils/node_hash'));
    expect(hash.data.hash_id).toEqual(expect.any(String));
    const debug = await srv.call('POST', '/api/v1/utils/debug');
    expect(debug.status).toBe(200);
    expect(debug.headers.get('content-type')).toBe('application/zip');
    const bytes = new Uint8Array(await debug.arrayBuffer());
    expect([...bytes.slice(0, 2)]).toEqual([0x50, 0x4b]);
    await expectRestError(await srv.call('POST', '/api/v1/utils/', { json: {} }), 422);
  });
});
