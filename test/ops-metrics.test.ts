import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImage, toPng } from '../bench/synthetic.ts';
import { startGateway } from './graph-helpers.ts';
import { partPng } from './inference-fixtures.ts';
import { scrape } from './metrics-helpers.ts';
import { seedGoldenModel, startServer, type TestServer } from './predict-server.ts';
import { deferred } from './realtime-helpers.ts';

let ts: TestServer;
let token: string;

beforeAll(async () => {
  // Small upload limits, so that a body over them is cheap to send.
  ts = await startServer({ UPLOAD_MAX_FILES: '4', UPLOAD_MAX_FILE_BYTES: '200000', TRAINING_CONCURRENCY: '1' });
  const res = await fetch(`${ts.url}/api/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'tester', client_secret: 'tester-secret-0123456789' }),
  });
  token = ((await res.json()) as { access_token: string }).access_token;
});
afterAll(async () => {
  await ts?.stop();
});

const gql = async (query: string, variables: Record<string, unknown> = {}) => {
  const res = await fetch(`${ts.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data: any; errors?: any[] };
};

const plates = (seeds: number[]) =>
  Promise.all(seeds.map(async (seed) => ({ name: `${seed}.png`, body: await toPng(generateImage('plate', { seed, size: 96 })), type: 'image/png' })));

/** An SSE subscription: the `next` payloads as they come, and `done` when the server completes it. */
function sse(query: string, variables: Record<string, unknown> = {}) {
  const events: any[] = [];
  const done = deferred<any[]>();
  const opened = deferred();
  const req = http.request(`${ts.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
  });
  req.on('response', (res) => {
    opened.resolve();
    let buf = '';
    res.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (/^event: next$/m.test(block) && data) events.push(JSON.parse(data));
      }
    });
    res.on('end', () => done.resolve(events));
  });
  req.on('error', done.reject);
  req.end(JSON.stringify({ query, variables }));
  return { events, opened: opened.promise, done: done.promise };
}

describe('GET /metrics (Prometheus text) after real operations', () => {
  it('counts HTTP requests by route and status, GraphQL operations by name, and errors by their code', async () => {
    const before = await scrape(ts.url);
    expect((await gql('query Targets { targets { id } }')).errors).toBeUndefined();
    const missing = await gql('mutation Activate { activateModel(id: "no-such-model") { id } }');
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await fetch(`${ts.url}/api/v1/targets/`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const after = await scrape(ts.url);

    const moved = (name: string, labels: Record<string, string>) => after.get(name, labels) - before.get(name, labels);
    expect(moved('graphql_envelop_request', { operationName: 'Targets', operationType: 'query' })).toBe(1);
    expect(moved('graphql_envelop_request', { operationName: 'Activate', operationType: 'mutation' })).toBe(1);
    expect(moved('graphql_envelop_error_result', { operationName: 'Activate', code: 'NOT_FOUND' })).toBe(1);
    expect(moved('graphql_envelop_phase_execute_count', { operationName: 'Targets' })).toBe(1);
    expect(moved('graphql_yoga_http_duration_count', { operationName: 'Targets', method: 'POST', statusCode: '200' })).toBe(1);
    expect(moved('spectro_http_requests_total', { method: 'POST', route: '/graphql', status: '200' })).toBe(1);
    // Nothing resolved: the status follows the error.
    expect(moved('spectro_http_requests_total', { method: 'POST', route: '/graphql', status: '404' })).toBe(1);
    // The REST call is one HTTP request on its route (its GraphQL operation counts as an operation).
    expect(moved('spectro_http_requests_total', { method: 'GET', route: '/api/v1/targets', status: '200' })).toBe(1);
    expect(moved('spectro_http_request_duration_seconds_count', { route: '/api/v1/targets' })).toBe(1);
    expect(after.get('process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('counts uploaded files and bytes, and refused uploads by reason', async () => {
    const before = await scrape(ts.url);
    const files = await plates([1, 2]);
    const ok = await ts.upload(
      'mutation ($f: [File!]!) { addItems(files: $f, training: false) { items { id } } }',
      { f: [null, null] },
      { 'f.0': files[0]!, 'f.1': files[1]! },
    );
    expect(ok.errors).toBeUndefined();
    const notImage = await ts.upload(
      'mutation ($f: [File!]!) { addItems(files: $f, training: false) { items { id } } }',
      { f: [null] },
      {
        'f.0': { name: 'notes.txt', body: Buffer.from('not a picture'), type: 'text/plain' },
      },
    );
    expect(notImage.errors?.[0]?.extensions?.code).toBe('UNSUPPORTED_MEDIA');
    // Over the whole-body limit (4 files x 200 kB + 1 MiB): refused before any operation runs.
    const huge = await ts.upload(
      'mutation ($f: [File!]!) { addItems(files: $f, training: false) { items { id } } }',
      { f: [null] },
      {
        'f.0': { name: 'huge.png', body: Buffer.alloc(2_500_000, 1), type: 'image/png' },
      },
    );
    expect(huge.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    const after = await scrape(ts.url);

    const moved = (name: string, labels: Record<string, string> = {}) => after.get(name, labels) - before.get(name, labels);
    expect(moved('spectro_upload_files_total')).toBe(2);
    expect(moved('spectro_upload_bytes_total')).toBe(files[0]!.body.byteLength + files[1]!.body.byteLength);
    expect(moved('spectro_upload_rejects_total', { reason: 'UNSUPPORTED_MEDIA' })).toBe(1);
    expect(moved('spectro_upload_rejects_total', { reason: 'BODY_TOO_LARGE' })).toBe(1);
    expect(moved('spectro_store_operation_duration_seconds_count', { operation: 'addItems' })).toBe(1);
    expect(moved('spectro_store_operation_duration_seconds_count', { operation: 'blobs.putFile' })).toBe(2);
  });

  it('records inference per model: pictures by result, decode time, queue wait, batch sizes and run time', async () => {
    const { model } = await seedGoldenModel(ts);
    const before = await scrape(ts.url);
    const files = {
      'f.0': { name: 'clean.png', body: await partPng(), type: 'image/png' },
      'f.1': { name: 'bad.png', body: await partPng({ defect: { x: 90, y: 90, size: 14 } }), type: 'image/png' },
    };
    const res = await ts.upload(`mutation ($f: [File!]!) { predictImages(files: $f, modelId: "${model.id}") { result } }`, { f: [null, null] }, files);
    expect(res.errors).toBeUndefined();
    expect(res.data.predictImages.map((a: { result: string }) => a.result)).toEqual(['GOOD', 'BAD']);
    const after = await scrape(ts.url);

    const m = { model: model.id };
    const moved = (name: string, labels: Record<string, string> = {}) => after.get(name, labels) - before.get(name, labels);
    expect(moved('spectro_inference_pictures_total', { ...m, result: 'GOOD' })).toBe(1);
    expect(moved('spectro_inference_pictures_total', { ...m, result: 'BAD' })).toBe(1);
    expect(moved('spectro_inference_decode_seconds_count', m)).toBe(2);
    expect(moved('spectro_inference_queue_wait_seconds_count', m)).toBe(2);
    expect(moved('spectro_inference_decode_seconds_sum', m)).toBeGreaterThan(0);
    // Two pictures ran in one batch of 2 or two batches of 1 (warm-up runs are not counted).
    expect(moved('spectro_inference_batch_size_sum', m)).toBe(2);
    const batches = moved('spectro_inference_batch_size_count', m);
    expect([1, 2]).toContain(batches);
    expect(moved('spectro_inference_run_seconds_count', m)).toBe(batches);
    expect(moved('spectro_upload_files_total')).toBe(2);
  });

  it('records training: jobs queued and running, durations and outcomes (a failure too), and subscriptions open and delivered', async () => {
    const t1 = (await gql('mutation { createTarget(name: "metrics-a") { id } }')).data.createTarget.id as string;
    const t2 = (await gql('mutation { createTarget(name: "metrics-b") { id } }')).data.createTarget.id as string;
    const files = await plates([11, 12, 13, 14]);
    const up = await ts.upload(
      `mutation ($f: [File!]!) { addItems(files: $f, training: true, good: true, targetId: "${t1}") { items { id } } }`,
      { f: files.map(() => null) },
      Object.fromEntries(files.map((f, i) => [`f.${i}`, f])),
    );
    expect(up.errors).toBeUndefined();
    // Target b's pictures are unreadable (written behind the gateway's back): its job fails.
    const { store } = ts.server.services;
    const junk = await store.blobs.put(Buffer.from('not a picture at all'));
    await store.addItems(
      [1, 2].map((i) => ({
        name: `junk-${i}.png`,
        targetId: t2,
        type: 'TRAINING' as const,
        good: true,
        images: [{ name: `junk-${i}.png`, blob: junk, width: 96, height: 96, fileSize: 20, contentType: 'image/png' }],
      })),
    );
    const before = await scrape(ts.url);
    const train = (t: string) =>
      gql(`mutation { trainModel(algorithmId: "pattern-matching", targetId: "${t}", overrideParams: [{ name: "input_size", value: "96" }]) { id } }`);
    const a = (await train(t1)).data.trainModel.id as string;
    const progress = sse('subscription ($m: ID) { trainingProgress(modelId: $m) { status stage } }', { m: a });
    await progress.opened;
    const running = await scrape(ts.url);
    expect(running.get('spectro_training_jobs_running')).toBe(1);
    expect(running.get('spectro_subscriptions_open', { field: 'trainingProgress', transport: 'sse' })).toBe(1);
    // One slot (TRAINING_CONCURRENCY=1): a (decoding and fitting for a second or more) holds it, b waits.
    const b = (await train(t2)).data.trainModel.id as string;
    const waiting = await scrape(ts.url);
    expect(waiting.get('spectro_training_jobs_queued')).toBe(1);
    expect(waiting.get('spectro_training_jobs_running')).toBe(1);

    const events = await progress.done;
    expect(events.at(-1).data.trainingProgress.status).toBe('READY');
    const failed = await sse('subscription ($m: ID) { trainingProgress(modelId: $m) { status statusText: message } }', { m: b }).done;
    expect(failed.at(-1).data.trainingProgress.status).toBe('FAILED');
    const after = await scrape(ts.url);

    const moved = (name: string, labels: Record<string, string> = {}) => after.get(name, labels) - before.get(name, labels);
    const pm = { algorithm: 'pattern-matching' };
    expect(moved('spectro_training_jobs_total', { ...pm, outcome: 'ready' })).toBe(1);
    expect(moved('spectro_training_jobs_total', { ...pm, outcome: 'failed' })).toBe(1);
    expect(moved('spectro_training_duration_seconds_count', { ...pm, outcome: 'ready' })).toBe(1);
    expect(moved('spectro_training_duration_seconds_sum', { ...pm, outcome: 'ready' })).toBeGreaterThan(0);
    expect(after.get('spectro_training_jobs_running')).toBe(0);
    expect(after.get('spectro_training_jobs_queued')).toBe(0);
    // Every event the clients got was counted, and both streams are closed again.
    expect(moved('spectro_subscription_events_delivered_total', { field: 'trainingProgress', transport: 'sse' })).toBe(events.length + failed.length);
    expect(after.get('spectro_subscriptions_open', { field: 'trainingProgress', transport: 'sse' })).toBe(0);
    expect(moved('spectro_pubsub_published_total', { topic: 'trainingProgress' })).toBeGreaterThanOrEqual(events.length);
  });

  it("reports dropped events and slow-consumer closes from the subscribers' buffers, and pub/sub health", async () => {
    const { pubsub } = ts.server.services;
    const before = await scrape(ts.url);
    const dropping = pubsub.subscribe('trainingProgress', 'metrics-slow', { bufferSize: 1, overflow: 'drop-oldest' });
    const failing = pubsub.subscribe('predictionResult', 'metrics-slow', { bufferSize: 1, overflow: 'error' });
    await Promise.all([dropping.ready, failing.ready]);
    const step = { modelId: 'metrics-slow', progress: 0, stage: 's', status: 'TRAINING' as const, message: null, at: new Date().toISOString() };
    const result = { assessmentId: 'a', itemId: 'i', modelId: 'metrics-slow', targetId: 't', at: new Date().toISOString() };
    for (let i = 0; i < 3; i++) {
      await pubsub.publish('trainingProgress', 'metrics-slow', step);
      await pubsub.publish('predictionResult', 'metrics-slow', result);
    }
    const after = await scrape(ts.url);
    await dropping.return();
    await failing.return();

    expect(after.get('spectro_subscription_events_dropped_total') - before.get('spectro_subscription_events_dropped_total')).toBe(2);
    const closes = (s: typeof after) => s.get('spectro_subscription_slow_consumer_closes_total', { reason: 'event_buffer' });
    expect(closes(after) - closes(before)).toBe(1);
    expect(after.get('spectro_pubsub_up', { transport: 'memory' })).toBe(1);
    expect(after.get('spectro_pubsub_subscribers')).toBeGreaterThanOrEqual(1);
  });
});

describe('who may read /metrics', () => {
  it('METRICS_TOKEN: /metrics needs the bearer token', async () => {
    const g = await startGateway({ ops: { ...ts.server.services.config.ops, metricsToken: 'scrape-secret', metricsPort: null } });
    try {
      const none = await g.fetch('/metrics');
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await g.fetch('/metrics', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const ok = await g.fetch('/metrics', { headers: { authorization: 'Bearer scrape-secret' } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await ok.text()).toContain('spectro_http_requests_total');
    } finally {
      await g.close();
    }
  });

  it('METRICS_PORT: /metrics is served on that port only, not on the API port', async () => {
    const s = await startServer({ METRICS_PORT: '0', METRICS_TOKEN: 'scrape-secret' });
    try {
      expect((await fetch(`${s.url}/metrics`)).status).toBe(404);
      const port = s.metricsPort!;
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
      const m = await scrape(`http://127.0.0.1:${port}`, { headers: { authorization: 'Bearer scrape-secret' } });
      expect(m.get('spectro_http_requests_total', { route: '/metrics', status: '404' })).toBe(1);
      expect((await fetch(`http://127.0.0.1:${port}/graphql`)).status).toBe(404);
    } finally {
      await s.stop();
    }
  });
});
