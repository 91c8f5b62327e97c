import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImage, toPng } from '../bench/synthetic.ts';
import { REQUEST_ID_ATTRIBUTE, registerTracing, type Tracing } from '../src/observability/tracing.ts';
import { partPng } from './inference-fixtures.ts';
import { seedGoldenModel, startServer, type TestServer } from './predict-server.ts';
import { until } from './realtime-helpers.ts';

// The provider the gateway's main.ts registers for OTLP, here with an in-memory exporter.
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let ts: TestServer;
let token: string;

beforeAll(async () => {
  tracing = registerTracing({ exporter });
  ts = await startServer({}, { tracing: true });
  const res = await fetch(`${ts.url}/api/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'tester', client_secret: 'tester-secret-0123456789' }),
  });
  token = ((await res.json()) as { access_token: string }).access_token;
});
afterAll(async () => {
  await ts?.stop();
  await tracing?.shutdown();
});

const idOf = (s: ReadableSpan) => s.spanContext().spanId;

/** The spans of one trace, with a lookup of each one's parent. */
function traceOf(traceId: string) {
  const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  const byId = new Map(spans.map((s) => [idOf(s), s]));
  const parentOf = (s: ReadableSpan) => (s.parentSpanContext ? byId.get(s.parentSpanContext.spanId) : undefined);
  const named = (name: string | RegExp) => spans.filter((s) => (typeof name === 'string' ? s.name === name : name.test(s.name)));
  /** Names from `s` up to the root. */
  const chain = (s: ReadableSpan) => {
    const out: string[] = [];
    for (let at: ReadableSpan | undefined = s; at; at = parentOf(at)) out.push(at.name);
    return out;
  };
  return { spans, parentOf, named, chain };
}

/** A multipart request with our own headers (request id, W3C traceparent). */
async function upload(query: string, files: { name: string; body: Buffer }[], headers: Record<string, string>) {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query, variables: { f: files.map(() => null) } }));
  form.set('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.f.${i}`]]))));
  files.forEach((f, i) => form.set(String(i), new Blob([new Uint8Array(f.body)], { type: 'image/png' }), f.name));
  const res = await fetch(`${ts.url}/graphql`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${token}`, 'x-graphql-yoga-csrf': '1', ...headers },
  });
  return (await res.json()) as { data: any; errors?: unknown[] };
}

describe('OpenTelemetry traces (in-memory exporter)', () => {
  it("an HTTP predict is one trace from the request down to the inference worker spans, continuing the caller's traceparent, each span with the request id", async () => {
    const { model } = await seedGoldenModel(ts);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const res = await upload(
      `mutation Judge($f: [File!]!) { predictImages(files: $f, modelId: "${model.id}") { result } }`,
      [{ name: 'bad.png', body: await partPng({ defect: { x: 90, y: 90, size: 14 } }) }],
      { 'x-request-id': 'trace-predict-1', traceparent: `00-${traceId}-${callerSpan}-01` },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.predictImages[0].result).toBe('BAD');

    const t = traceOf(traceId);
    const [http] = t.named('POST /graphql');
    expect(http, `spans: ${t.spans.map((s) => s.name).join(', ')}`).toBeDefined();
    expect(http!.kind).toBe(SpanKind.SERVER);
    expect(http!.parentSpanContext?.spanId).toBe(callerSpan);
    expect(http!.attributes['http.response.status_code']).toBe(200);

    const [run] = t.named('inference.run');
    expect(run).toBeDefined();
    expect(t.chain(run!)).toEqual([
      'inference.run',
      'inference.infer',
      'inference.predict',
      'graphql.resolve Mutation.predictImages',
      'mutation Judge',
      'POST /graphql',
    ]);
    expect(run!.attributes['thread.name']).toBe('session-worker');
    expect(run!.attributes['spectro.batch.size']).toBe(1);
    for (const step of ['inference.decode', 'inference.queue']) expect(t.parentOf(t.named(step)[0]!)?.name).toBe('inference.infer');
    for (const phase of ['graphql.parse', 'graphql.validate', 'graphql.context']) expect(t.parentOf(t.named(phase)[0]!)).toBe(http);
    const execute = t.named('mutation Judge')[0]!;
    expect(execute.attributes).toMatchObject({ 'graphql.operation.type': 'mutation', 'graphql.operation.name': 'Judge' });
    // The store calls the resolver and the inference made are in the trace, below them.
    const stores = t.named(/^store\./);
    expect(stores.map((s) => s.name)).toEqual(expect.arrayContaining(['store.addItems', 'store.blobs.putFile', 'store.addAssessments']));
    expect(t.chain(t.named('store.addAssessments')[0]!)).toContain('inference.predict');
    expect(stores.every((s) => s.kind === SpanKind.CLIENT && s.attributes['db.system.name'] === 'sqlite')).toBe(true);
    // Every span of the request carries its id.
    expect(t.spans.filter((s) => s.attributes[REQUEST_ID_ATTRIBUTE] !== 'trace-predict-1').map((s) => s.name)).toEqual([]);
    // The worker's timings became the spans' times: decode, then queue, then run, inside infer.
    const infer = t.named('inference.infer')[0]!;
    const ms = (hr: [number, number]) => hr[0] * 1000 + hr[1] / 1e6;
    const [decode, queue] = [t.named('inference.decode')[0]!, t.named('inference.queue')[0]!];
    expect(ms(decode.startTime)).toBeGreaterThanOrEqual(ms(infer.startTime) - 1);
    expect(ms(queue.startTime)).toBeGreaterThanOrEqual(ms(decode.endTime) - 0.01);
    expect(ms(run!.endTime)).toBeLessThanOrEqual(ms(infer.endTime) + 1);
  });

  it('a training job is traced below the trainModel request (wait, pictures, worker with its progress steps), with the request id', async () => {
    const { store } = ts.server.services;
    const target = await store.createTarget('traced', []);
    await store.addItems(
      await Promise.all(
        [1, 2, 3].map(async (seed) => {
          const png = await toPng(generateImage('plate', { seed, size: 96 }));
          return {
            name: `${seed}.png`,
            targetId: target.id,
            type: 'TRAINING' as const,
            good: true,
            images: [{ name: `${seed}.png`, blob: await store.blobs.put(png), width: 96, height: 96, fileSize: png.byteLength, contentType: 'image/png' }],
          };
        }),
      ),
    );
    const res = await fetch(`${ts.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': 'trace-train-1' },
      body: JSON.stringify({
        query: `mutation Train { trainModel(algorithmId: "pattern-matching", targetId: "${target.id}", overrideParams: [{ name: "input_size", value: "96" }]) { id } }`,
      }),
    });
    const id = ((await res.json()) as { data: { trainModel: { id: string } } }).data.trainModel.id;
    // The job span ends after the job; its end is what this waits for.
    await until(
      () => exporter.getFinishedSpans().some((s) => s.name === 'training.job' && s.attributes['spectro.model.id'] === id),
      30_000,
      'the training job span',
    );

    const job = exporter.getFinishedSpans().find((s) => s.name === 'training.job' && s.attributes['spectro.model.id'] === id)!;
    const t = traceOf(job.spanContext().traceId);
    expect(t.chain(job)).toEqual(['training.job', 'graphql.resolve Mutation.trainModel', 'mutation Train', 'POST /graphql']);
    const children = t.spans.filter((s) => t.parentOf(s) === job).map((s) => s.name);
    expect(children).toEqual(expect.arrayContaining(['training.wait', 'training.load_pictures', 'training.worker']));
    const worker = t.named('training.worker')[0]!;
    expect(worker.events.map((e) => e.attributes?.['spectro.stage'])).toContain('features');
    expect(t.spans.filter((s) => t.chain(s).includes('training.job')).every((s) => s.attributes[REQUEST_ID_ATTRIBUTE] === 'trace-train-1')).toBe(true);
    expect(job.status.code).not.toBe(2); // not ERROR
    expect((await store.modelsByIds([id]))[0]!.status).toBe('READY');
  });
});
