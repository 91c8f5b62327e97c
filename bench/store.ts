/**
 * Nested read queries per second against the same data on SQLite and on PostgreSQL, in one run
 * (JSON on stdout). The query is the dashboard's nested items query (items with their pictures,
 * target, user boxes, and every model's assessment with model, algorithm, parameters, boxes and
 * pictures: 11 store reads whatever the page size). Each engine gets the same seeded records and
 * its own server process on port 0; the load generator runs here, `--concurrency` requests at a
 * time. The engines take turns (`--rounds` windows of `--seconds` each), so load that other work
 * puts on the machine meanwhile falls on both alike.
 *
 *   npm run bench:store -- [--seconds 3] [--rounds 3] [--concurrency 8] [--items 100] [--first 20]
 *
 * PostgreSQL: BENCH_DATABASE_URL (default TEST_DATABASE_URL, else the local server); the run
 * works in a schema of its own and drops it at the end.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import sharp from 'sharp';
import { Pool } from 'undici';
import { loadConfig } from '../src/config.ts';
import { createStore } from '../src/runtime/store/index.ts';
import { ALGORITHMS } from '../src/runtime/training/algorithms/index.ts';
import { clientToken, graphqlPost } from './graphql-client.ts';
import { exitWithParent } from './parent.ts';

const CLIENT = { id: 'bench', secret: 'bench-secret-0123456789abcdef' };
const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};

const NESTED = /* GraphQL */ `
  query Nested($first: Int!) {
    items(type: TRAINING, first: $first) {
      totalCount
      edges {
        node {
          id
          images { url }
          target { name }
          userAssessment { annotations { xMin } }
          assessments {
            score
            model { name algorithm { name parameters { name } } }
            annotations { xMin }
            images { url }
          }
        }
      }
    }
  }
`;

if (args.includes('--serve')) await serve();
else await main();

/** Child process: the real server on the prepared data dir / database, until told to stop. */
async function serve() {
  const { createServer } = await import('../src/server.ts');
  const { createLogger } = await import('../src/logging.ts');
  const server = await createServer(loadConfig(process.env), { log: createLogger('warn') });
  const { url } = await server.start();
  process.send!({ url });
  exitWithParent();
  process.on('message', async () => {
    await server.stop();
    process.exit(0);
  });
}

/** The same records on either engine: one target, two models, `count` items each assessed by both. */
async function seed(dataDir: string, databaseUrl: string | null, count: number) {
  const store = await createStore({ dataDir, databaseUrl });
  try {
    // The algorithm catalogue, as a server start writes it.
    await store.syncAlgorithms(ALGORITHMS.map((a) => a.definition));
    const [algorithm] = await store.listAlgorithms();
    const target = await store.createTarget('bench', []);
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 90, g: 90, b: 90 } } })
      .png()
      .toBuffer();
    const blob = await store.blobs.put(png);
    const image = { name: 'a.png', blob, width: 64, height: 64, fileSize: png.byteLength, contentType: 'image/png' };
    const items = await store.addItems(
      Array.from({ length: count }, (_, i) => ({ name: `item-${i}.png`, targetId: target.id, type: 'TRAINING' as const, good: true, images: [image] })),
    );
    const models: { id: string }[] = [];
    for (const name of ['m1', 'm2']) {
      models.push(
        await store.createModel({
          name,
          version: '1',
          algorithmId: algorithm!.id,
          targetId: target.id,
          status: 'READY',
          params: {},
          predictParameters: { threshold: 0.5, ignoreOuter: 0, minDetectedArea: 0 },
          trainItemIds: [],
          okImageCount: count,
          ngImageCount: 0,
        }),
      );
    }
    await store.addAssessments(
      items.flatMap((item, i) =>
        models.map((model) => ({
          itemId: item.id,
          modelId: model.id,
          result: i % 2 ? ('BAD' as const) : ('GOOD' as const),
          label: null,
          score: i / count,
          threshold: 0.5,
          detectedObjects: 1,
          detectionAccuracy: 90,
          annotations: [{ xMin: 1, xMax: 5, yMin: 2, yMax: 6, label: 1, notes: null, score: 0.9 }],
          images: [{ ...image, name: 'heatmap.png' }],
        })),
      ),
    );
    for (const item of items) {
      await store.setUserAnnotations(item.id, [{ xMin: 0, xMax: 1, yMin: 0, yMax: 1, label: 0, notes: null, score: null }]);
    }
  } finally {
    await store.close();
  }
}

interface Target {
  query: () => Promise<any>;
  stop: () => Promise<void>;
}

/** A server process on the engine's records, and the nested query against it (checked once, warmed up). */
async function serverFor(env: Record<string, string>, opts: { concurrency: number; first: number }): Promise<Target> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
    execArgv: [],
    env: {
      ...process.env,
      ...env,
      PORT: '0',
      HOST: '127.0.0.1',
      EXECUTION_PROVIDER: 'cpu',
      SPECTRO_CLIENT_ID: CLIENT.id,
      SPECTRO_CLIENT_SECRET: CLIENT.secret,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { url } = await new Promise<{ url: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { url: string }));
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const pool = new Pool(url, { connections: opts.concurrency, pipelining: 1 });
  const post = graphqlPost(pool);
  const token = await clientToken(post, CLIENT);
  const query = () => post({ query: NESTED, variables: { first: opts.first } }, token);
  const first = await query();
  if (first.items.edges.length !== opts.first || first.items.edges[0].node.assessments.length !== 2) throw new Error('unexpected answer');
  for (let i = 0; i < 20; i++) await query(); // warm-up (statement caches, JIT)
  return {
    query,
    async stop() {
      await pool.close();
      child.send('stop');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** `concurrency` loops of the query for `seconds`: request latencies and the elapsed time. */
async function window(target: Target, seconds: number, concurrency: number) {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await target.query();
        latencies.push(performance.now() - s);
      }
    }),
  );
  return { latencies, elapsed: (performance.now() - t0) / 1000 };
}

function summarize(windows: { latencies: number[]; elapsed: number }[]) {
  const all = windows.flatMap((w) => w.latencies).sort((a, b) => a - b);
  const pct = (p: number) => round(all[Math.min(all.length - 1, Math.floor((p / 100) * all.length))]!);
  const seconds = windows.reduce((n, w) => n + w.elapsed, 0);
  return {
    requestsPerSecond: round(all.length / seconds),
    perRound: windows.map((w) => round(w.latencies.length / w.elapsed)),
    latencyMs: { p50: pct(50), p99: pct(99) },
  };
}

async function main() {
  const opts = {
    seconds: Number(flag('seconds', '3')),
    rounds: Number(flag('rounds', '3')),
    concurrency: Number(flag('concurrency', '8')),
    first: Number(flag('first', '20')),
  };
  const count = Number(flag('items', '100'));
  const baseUrl = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-bench-store-'));
  const schema = `spectro_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create schema "${schema}"`);
  const u = new URL(baseUrl);
  u.searchParams.set('options', `-c search_path=${schema}`);
  const pgUrl = u.toString();
  const out: Record<string, unknown> = { ...opts, items: count, cpus: os.cpus().length, loadAverage1m: round(os.loadavg()[0]!) };
  try {
    const sqliteDir = path.join(root, 'sqlite');
    const pgDir = path.join(root, 'postgres');
    await seed(sqliteDir, null, count);
    await seed(pgDir, pgUrl, count);
    const servers = {
      sqlite: await serverFor({ DATA_DIR: sqliteDir, DATABASE_URL: '' }, opts),
      postgres: await serverFor({ DATA_DIR: pgDir, DATABASE_URL: pgUrl }, opts),
    };
    const windows: Record<keyof typeof servers, { latencies: number[]; elapsed: number }[]> = { sqlite: [], postgres: [] };
    try {
      for (let r = 0; r < opts.rounds; r++) {
        for (const engine of ['sqlite', 'postgres'] as const) windows[engine].push(await window(servers[engine], opts.seconds, opts.concurrency));
      }
    } finally {
      await servers.sqlite.stop();
      await servers.postgres.stop();
    }
    out.sqlite = summarize(windows.sqlite);
    out.postgres = summarize(windows.postgres);
    const rate = (e: unknown) => (e as { requestsPerSecond: number }).requestsPerSecond;
    out.ratio_postgres_over_sqlite = round(rate(out.postgres) / rate(out.sqlite));
    console.log(JSON.stringify(out, null, 2));
  } finally {
    await admin.query(`drop schema if exists "${schema}" cascade`).catch(() => {});
    await admin.end();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function round(x: number) {
  return Math.round(x * 100) / 100;
}
