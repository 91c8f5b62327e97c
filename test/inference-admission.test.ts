import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.ts';
import { Admission } from '../src/runtime/inference/admission.ts';
import { partPng } from './inference-fixtures.ts';
import { scrape } from './metrics-helpers.ts';
import { addPredictionItems, seedGoldenModel, startServer, type TestServer } from './predict-server.ts';

describe('admission queue of a model (runtime/inference/admission.ts)', () => {
  it('lets `concurrency` pictures in at once and serves waiting synchronous pictures before background ones', async () => {
    const a = new Admission('m', { concurrency: 2, depth: 10, deadlineMs: 60_000 });
    const first = await a.acquire('sync');
    const second = await a.acquire('background');
    const order: string[] = [];
    const bg = a.acquire('background').then((r) => (order.push('background'), r));
    const sync = a.acquire('sync').then((r) => (order.push('sync'), r));
    expect(a.state()).toMatchObject({ active: 2, waiting: 1, waitingBackground: 1 });
    first();
    first(); // a second call releases nothing more
    (await sync)();
    second();
    (await bg)();
    expect(order).toEqual(['sync', 'background']);
    expect(a.state()).toMatchObject({ active: 0, waiting: 0, waitingBackground: 0 });
  });

  it('lets waiting pictures in at once when the window grows (the model loaded with a larger batch cap)', async () => {
    const a = new Admission('m', { concurrency: 1, depth: 10, deadlineMs: 60_000 });
    await a.acquire('sync');
    const waiting = [a.acquire('sync'), a.acquire('background')];
    expect(a.state()).toMatchObject({ active: 1, waiting: 1, waitingBackground: 1 });
    a.setConcurrency(3);
    await Promise.all(waiting);
    expect(a.state()).toMatchObject({ active: 3, waiting: 0, waitingBackground: 0, concurrency: 3 });
  });

  it('refuses a request that would take the model past its depth, with UNAVAILABLE QUEUE_FULL and a Retry-After', () => {
    const a = new Admission('m', { concurrency: 2, depth: 3, deadlineMs: 60_000 });
    const release = a.admit(2);
    let refused: unknown;
    try {
      a.admit(2);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).extensions).toMatchObject({ code: 'UNAVAILABLE', reason: 'QUEUE_FULL', retryAfter: expect.any(Number) });
    expect((refused as AppError).extensions.retryAfter as number).toBeGreaterThanOrEqual(1);
    expect(a.admit(1)).toBeTypeOf('function');
    release();
    expect(a.state()).toMatchObject({ admitted: 1, rejected: { queueFull: 1, deadline: 0 } });
  });

  it('refuses a synchronous picture still waiting at the deadline; a background one waits on', async () => {
    const a = new Admission('m', { concurrency: 1, depth: 10, deadlineMs: 30 });
    const held = await a.acquire('sync');
    const bg = a.acquire('background');
    const late = await a.acquire('sync').then(
      () => null,
      (err: AppError) => err,
    );
    expect(late?.extensions).toMatchObject({ code: 'UNAVAILABLE', reason: 'QUEUE_DEADLINE' });
    expect(a.state()).toMatchObject({ waiting: 0, waitingBackground: 1, rejected: { deadline: 1 } });
    held();
    (await bg)();
    expect(a.state().active).toBe(0);
  });
});

describe('admission over GraphQL: refused predictions, readiness and metrics', () => {
  let ts: TestServer;
  let modelId: string;
  let itemIds: string[];
  beforeAll(async () => {
    // 4 pictures at a time in the pipeline (concurrency max(4, 2 x 1 + 2 x 1)), at most 20
    // admitted, 1 ms of waiting allowed: of a burst of 20, those beyond the first 4 wait longer
    // than that (a picture takes milliseconds through the worker threads) and are refused.
    ts = await startServer({ PREDICT_QUEUE_DEPTH: '20', PREDICT_QUEUE_DEADLINE_MS: '1', MAX_BATCH_SIZE: '1', DECODE_THREADS: '1' });
    modelId = (await seedGoldenModel(ts)).model.id;
    const png = await partPng();
    itemIds = await addPredictionItems(
      ts,
      Array.from({ length: 24 }, () => png),
    );
  });
  afterAll(async () => {
    await ts?.stop();
  });

  const PREDICT = 'mutation($ids: [ID!]!) { predict(modelId: "active", itemIds: $ids) { id result } }';

  it('refuses a request beyond PREDICT_QUEUE_DEPTH at once: UNAVAILABLE QUEUE_FULL, HTTP Retry-After; nothing stored', async () => {
    const res = await fetch(`${ts.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: await bearer(ts) },
      body: JSON.stringify({ query: PREDICT, variables: { ids: itemIds.slice(0, 21) } }),
    });
    const body = (await res.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(body.errors[0]!.extensions).toMatchObject({ code: 'UNAVAILABLE', reason: 'QUEUE_FULL' });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await ts.server.services.store.assessmentsByItemIds(itemIds)).toEqual([]);
  });

  it('an upload-and-predict refused by the queue leaves none of its pictures behind', async () => {
    const { store } = ts.server.services;
    const target = (await store.defaultTarget())!;
    const before = (await store.listItems({ targetId: target.id }, { first: 1 })).totalCount;
    const png = await partPng();
    const files = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`files.${i}`, { name: `u${i}.png`, body: png, type: 'image/png' }]));
    const res = await ts.upload(
      `mutation($files: [File!]!) { predictImages(modelId: "active", files: $files) { result } }`,
      { files: Array(21).fill(null) },
      files,
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNAVAILABLE', reason: 'QUEUE_FULL' });
    expect((await store.listItems({ targetId: target.id }, { first: 1 })).totalCount).toBe(before);
  });

  it('refuses pictures that waited past PREDICT_QUEUE_DEADLINE_MS while the others are judged; readiness and metrics count them', async () => {
    const results = await Promise.all(itemIds.slice(0, 20).map((id) => ts.gql(PREDICT, { ids: [id] })));
    const ok = results.filter((r) => !r.errors);
    const late = results.filter((r) => r.errors?.[0]?.extensions?.reason === 'QUEUE_DEADLINE');
    expect(ok.length).toBeGreaterThanOrEqual(4);
    expect(late.length).toBeGreaterThan(0);
    expect(ok.length + late.length).toBe(20);
    for (const r of late) expect(r.errors![0].extensions.code).toBe('UNAVAILABLE');

    const ready = (await (await fetch(`${ts.url}/readiness`)).json()) as { predictQueues: Record<string, any> };
    expect(ready.predictQueues[modelId]).toMatchObject({
      active: 0,
      waiting: 0,
      admitted: 0,
      depth: 20,
      concurrency: 4,
      rejected: { queueFull: 2, deadline: late.length },
    });
    const m = await scrape(ts.url);
    expect(m.get('spectro_inference_admission_rejects_total', { model: modelId, reason: 'deadline' })).toBe(late.length);
    expect(m.get('spectro_inference_admission_rejects_total', { model: modelId, reason: 'queue_full' })).toBe(2);
    expect(m.get('spectro_inference_admission_queue_depth', { model: modelId })).toBe(0);
    expect(m.get('spectro_inference_admission_wait_seconds_count', { model: modelId })).toBe(ok.length);
  });
});

async function bearer(ts: TestServer): Promise<string> {
  const res = await ts.gql<{ token: { accessToken: string } }>(
    'mutation { token(clientId: "tester", clientSecret: "tester-secret-0123456789") { accessToken } }',
  );
  return `Bearer ${res.data.token.accessToken}`;
}
