import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { generateImage, toPng } from '../bench/synthetic.ts';
import { decodeToTensor } from '../src/runtime/images/tensor.ts';
import { type GatewayProcess, spawnGateway, tempDataDir } from './gateway-process.ts';
import { goldenOnnx, partPng, spec } from './inference-fixtures.ts';
import { deferred, until } from './realtime-helpers.ts';
import { ENGINES, scratchSchema, type ScratchSchema, type TestEngine } from './store-engines.ts';

/**
 * kill -9 of a real gateway process in the middle of an upload, a training job, an import and a
 * prediction batch; then a restart on the same data directory, and the data checked: the
 * database intact, every file a row names present and whole, no file that no row names, nothing
 * left half-written in staging, nothing stuck (training ends READY or FAILED).
 *
 * Blobs written just before the crash and not yet named by a row are only removed by the start-up
 * sweep once they are an hour old (younger ones may be export downloads, which have no row). The
 * leftovers are aged by two hours before the restart, standing in for that hour: the check is
 * that the sweep then finds every one of them. The holds a killed request kept on its blobs
 * (`blob_claims`, 15 minutes) are aged the same way.
 *
 * The same checks run with the records on SQLite and on PostgreSQL (a schema per test).
 */
const dirs: string[] = [];
const schemas: ScratchSchema[] = [];
const running: GatewayProcess[] = [];
afterAll(async () => {
  for (const gw of running) await gw.crash().catch(() => {});
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  for (const s of schemas) await s.drop().catch(() => {});
});

const ENV = { TRAINING_LEASE_MS: '1500', DRAIN_TIMEOUT_MS: '3000' };

/** The database of the current test: null for SQLite (the file in DATA_DIR), else a PostgreSQL schema's URL. */
let databaseUrl: string | null = null;

async function start(dataDir: string, env: Record<string, string> = {}): Promise<GatewayProcess & { token: string }> {
  const gw = await spawnGateway({ command: ['node', 'src/main.ts'], dataDir, env: { ...ENV, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...env } });
  running.push(gw);
  return Object.assign(gw, { token: await gw.token() });
}

async function stop(gw: GatewayProcess) {
  process.kill(gw.pid, 'SIGTERM');
  expect(await gw.exited).toEqual({ code: 0, signal: null });
}

/** Runs `op` and kills the process with SIGKILL as soon as `inProgress` resolves. */
async function crashDuring(gw: GatewayProcess, inProgress: Promise<unknown>, op: () => Promise<unknown>) {
  const outcome = op().then(
    () => 'finished',
    () => 'cut off',
  );
  await inProgress;
  await gw.crash();
  return outcome;
}

/**
 * Resolves at the first file system event under `dir` (a file staged or a blob written).
 * `recursive: false` where the files land in `dir` itself: a plain watch is in place before the
 * request starts, where Node's recursive one on Linux walks the tree asynchronously and, on a busy
 * machine, can miss a fast upload's first files (the test then waited for an event that had gone).
 */
function firstWrite(dir: string, recursive = true) {
  const hit = deferred();
  const watcher = fs.watch(dir, { recursive }, () => hit.resolve());
  return hit.promise.finally(() => watcher.close());
}

/** Resolves at the first subscription event that `test` accepts (SSE). */
function firstEvent(gw: GatewayProcess & { token: string }, query: string, test: (data: any) => boolean) {
  const hit = deferred<any>();
  const req = http.request(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${gw.token}` },
  });
  req.on('response', (res) => {
    let buf = '';
    res.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      for (const m of buf.matchAll(/^data: (.*)$/gm)) {
        const data = JSON.parse(m[1]!).data;
        if (data && test(data)) hit.resolve(data);
      }
      buf = buf.slice(buf.lastIndexOf('\n') + 1);
    });
  });
  req.on('error', () => {}); // the process is killed under it
  req.end(JSON.stringify({ query }));
  return hit.promise;
}

async function multipart(gw: GatewayProcess & { token: string }, query: string, variable: string, files: { name: string; body: Buffer }[]) {
  const single = files.length === 1 && !variable.endsWith('s');
  const form = new FormData();
  form.set('operations', JSON.stringify({ query, variables: { [variable]: single ? null : files.map(() => null) } }));
  form.set('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [single ? `variables.${variable}` : `variables.${variable}.${i}`]]))));
  files.forEach((f, i) => form.set(String(i), new Blob([new Uint8Array(f.body)]), f.name));
  const res = await fetch(`${gw.url}/graphql`, { method: 'POST', body: form, headers: { authorization: `Bearer ${gw.token}`, 'x-graphql-yoga-csrf': '1' } });
  const body = (await res.json()) as { data: any; errors?: any[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** Every file time under `dir` set two hours back (see the comment at the top). */
function age(dir: string) {
  const then = new Date(Date.now() - 2 * 3600_000);
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) fs.utimesSync(path.join(entry.parentPath, entry.name), then, then);
  }
}

/** Runs SQL on the test's database (SQLite file or PostgreSQL schema). */
async function query<R>(dataDir: string, text: string): Promise<R[]> {
  if (!databaseUrl) {
    const db = new Database(path.join(dataDir, 'spectro.db'));
    try {
      const stmt = db.prepare(text);
      return (stmt.reader ? stmt.all() : (stmt.run(), [])) as R[];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(text)).rows as R[];
  } finally {
    await client.end();
  }
}

/** The checks of the data directory and database after the restart (the gateway stopped). */
async function checkDataDir(dataDir: string) {
  if (!databaseUrl) {
    const db = new Database(path.join(dataDir, 'spectro.db'));
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);
    } finally {
      db.close();
    }
  }
  const q = <R>(text: string) => query<R>(dataDir, text);
  const named = new Set(
    (
      await q<{ k: string }>(
        `SELECT blob AS k FROM images UNION SELECT onnx_blob FROM models WHERE onnx_blob IS NOT NULL
         UNION SELECT image_blob FROM models WHERE image_blob IS NOT NULL`,
      )
    ).map((r) => r.k),
  );
  const blobsDir = path.join(dataDir, 'blobs');
  const files = fs
    .readdirSync(blobsDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(blobsDir, path.join(e.parentPath, e.name)).replace(path.sep, ''));
  // No reference to a missing or damaged file: each named blob is there, its bytes hash to its name.
  for (const key of named) {
    const file = path.join(blobsDir, key.slice(0, 2), key.slice(2));
    expect(fs.existsSync(file), `missing blob ${key}`).toBe(true);
    expect(createHash('sha256').update(fs.readFileSync(file)).digest('hex')).toBe(key);
  }
  // No orphan: every file is named by a row (a half-written `.tmp-…` one would not be).
  expect(files.filter((f) => !named.has(f))).toEqual([]);
  expect(fs.readdirSync(path.join(dataDir, 'tmp')).filter((f) => fs.statSync(path.join(dataDir, 'tmp', f)).isFile())).toEqual([]);
  // Nothing stuck or half-stored, no hold left.
  expect(await q("SELECT id, status FROM models WHERE status IN ('QUEUED', 'TRAINING')")).toEqual([]);
  expect(await q('SELECT id FROM items i WHERE NOT EXISTS (SELECT 1 FROM images m WHERE m.item_id = i.id)')).toEqual([]);
  expect(await q('SELECT id FROM assessments a WHERE NOT EXISTS (SELECT 1 FROM images m WHERE m.assessment_id = a.id)')).toEqual([]);
  expect(await q('SELECT key FROM blob_claims')).toEqual([]);
  return {
    items: Number((await q<{ n: number }>('SELECT COUNT(*) AS n FROM items'))[0]!.n),
    models: await q<{ id: string; status: string }>('SELECT id, status FROM models'),
    assessments: Number((await q<{ n: number }>('SELECT COUNT(*) AS n FROM assessments'))[0]!.n),
  };
}

/** After the crash: leftovers aged, a restart (its start-up sweep), `settle`, a clean stop, the checks. */
async function restartAndCheck(dataDir: string, settle: (gw: GatewayProcess & { token: string }) => Promise<void> = async () => {}) {
  age(path.join(dataDir, 'blobs'));
  age(path.join(dataDir, 'tmp'));
  await query(dataDir, `UPDATE blob_claims SET held_until = held_until - ${2 * 3600_000}`);
  const gw = await start(dataDir);
  await settle(gw);
  await stop(gw);
  return checkDataDir(dataDir);
}

/** Pictures big enough that storing a handful takes a while (random pixels do not compress). */
async function noisePng(seed: number, side = 400) {
  const raw = Buffer.alloc(side * side * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < raw.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    raw[i] = x & 0xff;
  }
  return sharp(raw, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

/** An archive of a golden-image model, made with scripts/wrap-onnx.ts as an integrator would. */
async function goldenArchive(dir: string): Promise<Buffer> {
  const onnx = path.join(dir, 'golden.onnx');
  const zip = path.join(dir, 'golden.zip');
  fs.writeFileSync(onnx, goldenOnnx((await decodeToTensor(await partPng(), spec)).data));
  await promisify(execFile)(
    process.execPath,
    ['scripts/wrap-onnx.ts', onnx, zip, '--width', '64', '--height', '64', '--color', 'gray', '--threshold', '0.1', '--anomaly-range', '0,0.5'],
    {
      cwd: path.resolve(import.meta.dirname, '..'),
    },
  );
  return fs.readFileSync(zip);
}

const IMPORT = 'mutation ($file: File!) { importModels(file: $file) { id status } }';

describe.each(ENGINES)('kill -9, restart, and the data is whole (%s)', (engine: TestEngine) => {
  beforeEach(async () => {
    databaseUrl = null;
    if (engine === 'postgres') {
      const schema = await scratchSchema();
      schemas.push(schema);
      databaseUrl = schema.url;
    }
  });

  it('during an upload: no item, blob or staged file of it is left half-done', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const gw = await start(dataDir);
    const files = await Promise.all([1, 2, 3, 4, 5, 6].map(async (i) => ({ name: `noise-${i}.png`, body: await noisePng(i) })));
    // staged uploads are files directly in tmp/
    const outcome = await crashDuring(gw, firstWrite(path.join(dataDir, 'tmp'), false), () =>
      multipart(gw, 'mutation ($files: [File!]!) { addItems(files: $files, training: false) { items { id } } }', 'files', files),
    );
    expect(outcome).toBe('cut off');
    const after = await restartAndCheck(dataDir);
    expect(after.items).toBe(0); // all or nothing, and the request never answered
  });

  it('during an import: the model is there whole or not at all', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const archive = await goldenArchive(dataDir);
    const gw = await start(dataDir);
    const outcome = await crashDuring(gw, firstWrite(path.join(dataDir, 'blobs')), () =>
      multipart(gw, IMPORT, 'file', [{ name: 'golden.zip', body: archive }]),
    );
    const after = await restartAndCheck(dataDir);
    if (outcome === 'finished') expect(after.models.map((m) => m.status)).toEqual(['READY']);
    else expect(after.models.length === 0 || after.models[0]!.status === 'READY').toBe(true);
  });

  it('during training: after the restart the job is taken over and ends READY', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const gw = await start(dataDir);
    const plates = await Promise.all(
      [1, 2, 3, 4].map(async (seed) => ({ name: `${seed}.png`, body: await toPng(generateImage('plate', { seed, size: 96 })) })),
    );
    await multipart(gw, 'mutation ($files: [File!]!) { addItems(files: $files, training: true, good: true) { items { id } } }', 'files', plates);
    const trained = await gw.gql(
      'mutation { trainModel(algorithmId: "patch-sample", overrideParams: [{ name: "input_size", value: "96" }]) { id } }',
      {},
      gw.token,
    );
    const id = trained.data.trainModel.id as string;
    await crashDuring(
      gw,
      firstEvent(gw, `subscription { trainingProgress(modelId: "${id}") { status stage } }`, (d) => d.trainingProgress.status === 'TRAINING'),
      async () => {},
    );
    const after = await restartAndCheck(dataDir, async (again) => {
      const status = async () => (await again.gql(`{ model(id: "${id}") { status statusText } }`, {}, again.token)).data.model.status as string;
      // The dead process's lease runs out (TRAINING_LEASE_MS), then this one runs the job again.
      await until(async () => ['READY', 'FAILED'].includes(await status()), 60_000, 'the job to end');
    });
    expect(after.models).toEqual([{ id, status: 'READY' }]);
  });

  it("during prediction batches: each call's assessments are stored whole or not at all, and the items are untouched", async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const archive = await goldenArchive(dataDir);
    const gw = await start(dataDir);
    const [model] = (await multipart(gw, IMPORT, 'file', [{ name: 'golden.zip', body: archive }])).importModels;
    const parts = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => ({ name: `p${i}.png`, body: await partPng(i % 3 === 0 ? { defect: { x: 20 + i, y: 40, size: 12 } } : {}) })),
    );
    const items = (await multipart(gw, 'mutation ($files: [File!]!) { addItems(files: $files, training: false) { items { id } } }', 'files', parts)).addItems
      .items as { id: string }[];
    // Eight calls of three pictures at once: they share batches in the worker, and the first
    // results are stored (and published) while others are still being judged.
    const calls = () =>
      Promise.all(
        Array.from({ length: 8 }, (_, k) =>
          gw.gql(
            'mutation ($m: ID!, $i: [ID!]!) { predict(modelId: $m, itemIds: $i) { id } }',
            { m: model.id, i: items.slice(3 * k, 3 * k + 3).map((i) => i.id) },
            gw.token,
          ),
        ),
      );
    await crashDuring(
      gw,
      firstEvent(gw, `subscription { predictionResults(modelId: "${model.id}") { at } }`, () => true),
      calls,
    );
    const after = await restartAndCheck(dataDir);
    expect(after.items).toBe(24);
    expect(after.assessments).toBeGreaterThanOrEqual(1);
    expect(after.assessments % 3).toBe(0); // a call's assessments are one transaction
  });
});

describe('SQLITE_SYNCHRONOUS=normal (commits fsynced at checkpoints only)', () => {
  it('keeps every answered prediction through a kill -9: a process crash loses nothing, only a power loss could', async () => {
    databaseUrl = null;
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const archive = await goldenArchive(dataDir);
    const gw = await start(dataDir, { SQLITE_SYNCHRONOUS: 'normal' });
    const [model] = (await multipart(gw, IMPORT, 'file', [{ name: 'golden.zip', body: archive }])).importModels;
    const parts = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => ({ name: `p${i}.png`, body: await partPng(i % 2 ? { defect: { x: 30, y: 30, size: 12 } } : {}) })),
    );
    const items = (await multipart(gw, 'mutation ($files: [File!]!) { addItems(files: $files, training: false) { items { id } } }', 'files', parts)).addItems
      .items as { id: string }[];
    const answered: string[] = [];
    for (const item of items) {
      const res = await gw.gql('mutation ($m: ID!, $i: [ID!]!) { predict(modelId: $m, itemIds: $i) { id } }', { m: model.id, i: [item.id] }, gw.token);
      answered.push(res.data.predict[0].id);
    }
    // Killed right after the last answer: nothing since has fsynced the database.
    await gw.crash();
    const stored = (await query<{ id: string }>(dataDir, 'SELECT id FROM assessments')).map((r) => r.id);
    expect(stored.sort()).toEqual([...answered].sort());
    const after = await restartAndCheck(dataDir);
    expect(after.assessments).toBe(answered.length);
  });
});
