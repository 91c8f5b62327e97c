/**
 * Scale-out: background predictions per second with 1 and with 2 worker processes, in one run on
 * one machine (JSON on stdout). One API instance (ROLE=api) and the workers (ROLE=worker) run as
 * separate processes (`node src/main.ts`) on PostgreSQL (a schema of this run, dropped at the end),
 * Redis (BullMQ, a key prefix of this run) and a shared DATA_DIR for the blobs. A model is trained
 * through the API, then the same pictures are judged by `--jobs` concurrent requestPrediction jobs,
 * in rounds: 1 worker, 2 workers, 1 worker again (the repeat shows how much the machine drifted).
 * The time of a round runs from the first request to the last job DONE.
 *
 *   npm run bench:scale -- [--pictures 400] [--jobs 4] [--size 64]
 *
 * PostgreSQL: BENCH_DATABASE_URL (default TEST_DATABASE_URL, else the local server); Redis:
 * REDIS_URL (default the local one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { generateImage, toPng } from './synthetic.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const PICTURES = Number(flag('pictures', '400'));
const JOBS = Number(flag('jobs', '4'));
const SIZE = Number(flag('size', '64'));
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATABASE = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const CLIENT = { id: 'bench', secret: 'bench-secret-0123456789abcdef' };

const schemaName = `spectro_bench_${randomBytes(4).toString('hex')}`;
const prefix = `bench-scale-${randomBytes(4).toString('hex')}:`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-bench-scale-'));
const children: ChildProcess[] = [];

const admin = async (sql: string) => {
  const c = new pg.Client({ connectionString: DATABASE });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
};
const withSchema = (url: string) => {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schemaName}`);
  return u.toString();
};

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A gateway process; resolves once it listens. */
async function gateway(role: 'api' | 'worker') {
  const port = await freePort();
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      ROLE: role,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DATABASE_URL: withSchema(DATABASE),
      REDIS_URL: REDIS,
      REDIS_PREFIX: prefix,
      JWT_SECRET: 'bench-scale-secret-0123456789abcdef',
      SPECTRO_CLIENT_ID: CLIENT.id,
      SPECTRO_CLIENT_SECRET: CLIENT.secret,
      EXECUTION_PROVIDER: 'cpu',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
    },
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`a ${role} exited (${code}) before listening`)));
    const probe = async () => {
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return resolve();
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    void probe();
  });
  readline.createInterface({ input: child.stdout! }).on('line', () => {});
  return { child, url: `http://127.0.0.1:${port}` };
}

async function main() {
  await admin(`create schema "${schemaName}"`);
  const api = await gateway('api');
  let token = '';
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data: any; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  token = (await gql(`mutation { token(clientId: "${CLIENT.id}", clientSecret: "${CLIENT.secret}") { accessToken } }`)).token.accessToken;
  const upload = async (training: boolean, pictures: Buffer[]) => {
    const ids: string[] = [];
    for (let i = 0; i < pictures.length; i += 100) {
      const batch = pictures.slice(i, i + 100);
      const form = new FormData();
      form.set(
        'operations',
        JSON.stringify({
          query: `mutation ($f: [File!]!) { addItems(files: $f, training: ${training}, good: true) { items { id } } }`,
          variables: { f: batch.map(() => null) },
        }),
      );
      form.set('map', JSON.stringify(Object.fromEntries(batch.map((_, j) => [String(j), [`variables.f.${j}`]]))));
      batch.forEach((b, j) => form.set(String(j), new Blob([new Uint8Array(b)], { type: 'image/png' }), `${i + j}.png`));
      const res = await fetch(`${api.url}/graphql`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}`, 'x-graphql-yoga-csrf': '1' } });
      const body = (await res.json()) as { data: any; errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      ids.push(...body.data.addItems.items.map((it: { id: string }) => it.id));
    }
    return ids;
  };

  const workers = [await gateway('worker')];
  await upload(true, await Promise.all(Array.from({ length: 8 }, (_, i) => toPng(generateImage('plate', { seed: i + 1, size: SIZE })))));
  const { id: modelId } = (await gql(`mutation { trainModel(algorithmId: "patch-sample", overrideParams: [{ name: "input_size", value: "${SIZE}" }]) { id } }`))
    .trainModel;
  for (;;) {
    const { status } = (await gql(`{ model(id: "${modelId}") { status } }`)).model;
    if (status === 'READY') break;
    if (status !== 'QUEUED' && status !== 'TRAINING') throw new Error(`training ended ${status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await gql(`mutation { activateModel(id: "${modelId}") { id } }`);
  const items = await upload(
    false,
    await Promise.all(Array.from({ length: PICTURES }, (_, i) => toPng(generateImage('plate', { seed: 1000 + i, size: SIZE })))),
  );

  const round = async (label: string) => {
    const started = performance.now();
    const per = Math.ceil(items.length / JOBS);
    const ids: string[] = [];
    for (let j = 0; j < JOBS; j++) {
      ids.push(
        (
          await gql('mutation ($m: ID!, $i: [ID!]!) { requestPrediction(modelId: $m, itemIds: $i) { id } }', {
            m: modelId,
            i: items.slice(j * per, (j + 1) * per),
          })
        ).requestPrediction.id,
      );
    }
    for (;;) {
      const states = await Promise.all(ids.map(async (id) => (await gql(`{ predictionJob(id: "${id}") { status } }`)).predictionJob.status as string));
      if (states.some((s) => s === 'FAILED' || s === 'CANCELLED')) throw new Error(`a job ended ${states.join(',')}`);
      if (states.every((s) => s === 'DONE')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    const row = {
      round: label,
      workers: workers.length,
      pictures: items.length,
      seconds: Math.round(seconds * 100) / 100,
      picturesPerSecond: Math.round((items.length / seconds) * 10) / 10,
    };
    process.stderr.write(`${JSON.stringify(row)}\n`);
    return row;
  };

  // A first round warms every session and connection; it is not counted.
  await round('warm-up');
  const one = await round('1 worker');
  workers.push(await gateway('worker'));
  await round('warm-up 2');
  const two = await round('2 workers');
  const last = workers.pop()!;
  last.child.kill('SIGTERM');
  await new Promise((r) => last.child.once('exit', r));
  const oneAgain = await round('1 worker again');
  const baseline = (one.picturesPerSecond + oneAgain.picturesPerSecond) / 2;
  console.log(
    JSON.stringify(
      {
        machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
        setup: { pictures: PICTURES, jobs: JOBS, size: SIZE, algorithm: 'patch-sample', store: 'PostgreSQL + shared DATA_DIR', queue: 'BullMQ' },
        rounds: [one, two, oneAgain],
        picturesPerSecond: { oneWorker: baseline, twoWorkers: two.picturesPerSecond },
        ratio_two_over_one: Math.round((two.picturesPerSecond / baseline) * 100) / 100,
      },
      null,
      2,
    ),
  );
}

try {
  await main();
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await admin(`drop schema if exists "${schemaName}" cascade`).catch(() => {});
  const redis = new Redis(REDIS);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
