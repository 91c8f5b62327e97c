import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { generateImage, toPng } from '../bench/synthetic.ts';
import { type GatewayProcess, spawnGateway, tempDataDir } from './gateway-process.ts';
import { deferred, REDIS_URL, until } from './realtime-helpers.ts';
import { startS3Server, type S3Server } from './s3-server.ts';
import { POSTGRES_OFF, scratchSchema, type ScratchSchema } from './store-engines.ts';

/**
 * The scale-out topology as processes: 2 API instances (ROLE=api) and 2 workers (ROLE=worker) on
 * PostgreSQL (a schema of this run), Redis (a key prefix of this run: BullMQ and pub/sub) and a
 * local S3 server (a bucket of this run), each started as an operator would (`node src/main.ts`).
 * Workers are killed with SIGKILL in the middle of a training job and of a background prediction;
 * the sweep runs every second with no grace period, next to the uploads, all along.
 */
type Gw = GatewayProcess;
/** The access token (JWT_SECRET is shared: every API instance accepts it). */
let token = '';

let s3: S3Server | null = null;
let schema: ScratchSchema | null = null;
let bucket: string | null = null;
const prefix = `test-cluster-${randomUUID()}:`;
const processes: GatewayProcess[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const p of processes) await p.crash().catch(() => {});
  if (bucket) await s3?.drop(bucket).catch(() => {});
  await s3?.stop();
  await schema?.drop();
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Every event of a subscription over SSE, as it comes; `until` resolves once `test` holds for the list. */
function sse(gw: Gw, query: string) {
  const events: any[] = [];
  const waiters: { test: (events: any[]) => boolean; resolve: () => void }[] = [];
  const req = http.request(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
  });
  const opened = deferred();
  req.on('response', (res) => {
    opened.resolve();
    let buf = '';
    res.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('data: ')) continue;
        const data = JSON.parse(line.slice(6)).data;
        if (data) events.push(data);
      }
      for (const w of [...waiters]) if (w.test(events)) waiters.splice(waiters.indexOf(w), 1), w.resolve();
    });
  });
  req.on('error', () => {});
  req.end(JSON.stringify({ query }));
  return {
    events,
    opened: opened.promise,
    until(test: (events: any[]) => boolean) {
      if (test(events)) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ test, resolve }));
    },
    close: () => req.destroy(),
  };
}

async function upload(gw: Gw, query: string, files: { name: string; body: Buffer }[]) {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query, variables: { files: files.map(() => null) } }));
  form.set('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.files.${i}`]]))));
  files.forEach((f, i) => form.set(String(i), new Blob([new Uint8Array(f.body)], { type: 'image/png' }), f.name));
  const res = await fetch(`${gw.url}/graphql`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}`, 'x-graphql-yoga-csrf': '1' } });
  const body = (await res.json()) as { data: any; errors?: any[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const ADD = 'mutation ($files: [File!]!) { addItems(files: $files, training: $training, good: true) { items { id } } }';

describe.skipIf(POSTGRES_OFF)('a cluster of 2 API instances and 2 workers on PostgreSQL, Redis and S3', () => {
  it('trains and predicts through any instance while workers die: nothing lost, nothing twice, nothing left over', async () => {
    s3 = await startS3Server();
    schema = await scratchSchema();
    const b = await s3.bucket();
    bucket = b.bucket;
    const env = {
      ...b.env,
      DATABASE_URL: schema.url,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      JWT_SECRET: 'cluster-test-secret-0123456789abcdef',
      JOB_LEASE_MS: '1500',
      BLOB_SWEEP_INTERVAL_MS: '1000',
      BLOB_SWEEP_MIN_AGE_MS: '0',
      DRAIN_TIMEOUT_MS: '2000',
    };
    const start = async (role: 'api' | 'worker'): Promise<Gw> => {
      const dataDir = tempDataDir();
      dirs.push(dataDir);
      const gw = await spawnGateway({ command: ['node', 'src/main.ts'], dataDir, env: { ...env, ROLE: role } });
      processes.push(gw);
      return gw;
    };
    // The first one migrates the database; the others start together.
    const apiA = await start('api');
    const [apiB, w1, w2] = await Promise.all([start('api'), start('worker'), start('worker')]);
    token = await apiA.token();
    // A worker serves probes, not the API.
    expect((await fetch(`${w1.url}/graphql`)).status).toBe(404);
    expect((await fetch(`${w1.url}/readiness`)).status).toBe(200);

    // Upload through A, train, and kill -9 the worker that runs the job while it trains.
    const plates = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(async (seed) => ({ name: `${seed}.png`, body: await toPng(generateImage('plate', { seed, size: 96 })) })),
    );
    await upload(apiA, ADD.replace('$training', 'true'), plates);
    const trained = await apiA.gql(
      'mutation { trainModel(algorithmId: "patch-sample", overrideParams: [{ name: "input_size", value: "96" }]) { id } }',
      {},
      token,
    );
    const modelId = trained.data.trainModel.id as string;
    const progressA = sse(apiA, `subscription { trainingProgress(modelId: "${modelId}") { status stage progress } }`);
    const progressB = sse(apiB, `subscription { trainingProgress(modelId: "${modelId}") { status stage progress } }`);
    const startedOn = (w: GatewayProcess) => w.logged((l) => l.msg === 'training: job started' && l.modelId === modelId).then(() => w);
    const trainer = await Promise.race([startedOn(w1), startedOn(w2)]);
    const other = trainer === w1 ? w2 : w1;
    await progressA.until((ev) => ev.some((e) => e.trainingProgress.status === 'TRAINING'));
    await trainer.crash();
    const isEnd = (ev: any[]) => ev.some((e) => ['READY', 'FAILED', 'CANCELLED'].includes(e.trainingProgress.status));
    await Promise.all([progressA.until(isEnd), progressB.until(isEnd)]);
    for (const sub of [progressA, progressB]) {
      expect(sub.events.map((e) => e.trainingProgress.status).at(-1)).toBe('READY');
      expect(sub.events.map((e) => e.trainingProgress.status)).toContain('TRAINING');
    }
    // The survivor took the job over from the start.
    await other.logged((l) => l.msg === 'training: job started' && l.modelId === modelId && Number(l.attempt) >= 1);
    expect(other.logs.some((l) => l.msg === 'training: running again a job whose run was cut off' && l.modelId === modelId)).toBe(true);

    // Predict through B; subscribers on both API instances see the results.
    expect((await apiA.gql(`mutation { activateModel(id: "${modelId}") { active } }`, {}, token)).data.activateModel.active).toBe(true);
    const resultsA = sse(apiA, `subscription { predictionResults(modelId: "${modelId}") { assessment { id } item { id } } }`);
    const resultsB = sse(apiB, `subscription { predictionResults(modelId: "${modelId}") { assessment { id } item { id } } }`);
    await Promise.all([resultsA.opened, resultsB.opened]);
    const predicted = await upload(apiB, 'mutation ($files: [File!]!) { predictImages(files: $files, modelId: "active") { id result } }', plates.slice(0, 2));
    expect(predicted.predictImages).toHaveLength(2);
    const syncIds = predicted.predictImages.map((a: { id: string }) => a.id).sort();
    const seen = (sub: ReturnType<typeof sse>) => new Set(sub.events.map((e) => e.predictionResults.assessment.id));
    await Promise.all([resultsA, resultsB].map((s) => s.until(() => syncIds.every((id: string) => seen(s).has(id)))));

    // A background prediction of 200 small pictures; the worker that runs it is killed mid-way.
    const w3 = await start('worker');
    const small = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => ({ name: `s${i}.png`, body: await toPng(generateImage('plate', { seed: 100 + i, size: 32 })) })),
    );
    const ids: string[] = [];
    for (let i = 0; i < small.length; i += 100) {
      const added = await upload(apiB, 'mutation ($files: [File!]!) { addItems(files: $files, training: false) { items { id } } }', small.slice(i, i + 100));
      ids.push(...added.addItems.items.map((it: { id: string }) => it.id));
    }
    const requested = await apiA.gql(
      'mutation ($m: ID!, $ids: [ID!]!) { requestPrediction(modelId: $m, itemIds: $ids) { id status } }',
      { m: modelId, ids },
      token,
    );
    const jobId = requested.data.requestPrediction.id as string;
    const workers = [other, w3];
    const runner = await Promise.race(workers.map((w) => w.logged((l) => l.msg === 'prediction job started' && l.jobId === jobId).then(() => w)));
    const survivor = runner === other ? w3 : other;
    const jobItems = new Set(ids);
    const ofJob = (sub: ReturnType<typeof sse>) =>
      new Set(sub.events.filter((e) => jobItems.has(e.predictionResults.item.id)).map((e) => e.predictionResults.assessment.id));
    await resultsA.until(() => ofJob(resultsA).size >= 1);
    await runner.crash();
    const mid = (await apiB.gql(`{ predictionJob(id: "${jobId}") { status counts { judged } } }`, {}, token)).data.predictionJob;
    expect(mid.status).toBe('RUNNING');
    expect(mid.counts.judged).toBeLessThan(200);
    await survivor.logged((l) => l.msg === 'prediction job started' && l.jobId === jobId);
    await until(
      async () => (await apiB.gql(`{ predictionJob(id: "${jobId}") { status } }`, {}, token)).data.predictionJob.status === 'DONE',
      60_000,
      'the prediction job to end',
    );
    const done = (await apiA.gql(`{ predictionJob(id: "${jobId}") { status attempts counts { total judged failed } } }`, {}, token)).data.predictionJob;
    expect(done).toMatchObject({ status: 'DONE', counts: { total: 200, judged: 200, failed: 0 } });
    expect(done.attempts).toBeGreaterThanOrEqual(2);

    const db = new pg.Client({ connectionString: schema.url });
    await db.connect();
    try {
      // Every picture judged exactly once.
      const { rows: perItem } = await db.query<{ item_id: string; n: string }>(
        'select item_id, count(*) as n from assessments where job_id = $1 group by item_id',
        [jobId],
      );
      expect(perItem).toHaveLength(200);
      expect(perItem.every((r) => Number(r.n) === 1)).toBe(true);
      // Subscribers on both API instances saw every one of them (again after the death: at least once).
      const stored = new Set((await db.query<{ id: string }>('select id from assessments where job_id = $1', [jobId])).rows.map((r) => r.id));
      await Promise.all([resultsA, resultsB].map((s) => s.until(() => [...stored].every((id) => ofJob(s).has(id)))));
      for (const s of [resultsA, resultsB]) expect(ofJob(s)).toEqual(stored);

      // Nothing left over: every object is named by a row, every named object is there, no hold, nothing stuck.
      const named = async () =>
        new Set(
          (
            await db.query<{ k: string }>(
              `select blob as k from images union select onnx_blob from models where onnx_blob is not null
               union select image_blob from models where image_blob is not null`,
            )
          ).rows.map((r) => r.k),
        );
      const objects = async () => new Set((await s3!.keys(bucket!)).filter((k) => k !== 'blobs.owner'));
      await until(async () => (await objects()).size === (await named()).size, 20_000, 'the sweep to remove what nothing names');
      expect(await objects()).toEqual(await named());
      expect((await db.query('select key from blob_claims')).rows).toEqual([]);
      expect((await db.query(`select id from models where status in ('QUEUED', 'TRAINING')`)).rows).toEqual([]);
      expect((await db.query(`select id from prediction_jobs where status in ('QUEUED', 'RUNNING')`)).rows).toEqual([]);
      expect((await db.query('select id from items i where not exists (select 1 from images m where m.item_id = i.id)')).rows).toEqual([]);
    } finally {
      await db.end();
    }
    for (const s of [progressA, progressB, resultsA, resultsB]) s.close();
  }, 240_000);
});
