/**
 * Realtime fan-out, deployed the way it runs in production: two gateway instances (createServer,
 * port 0, own data directories, each in its own process) on the real Redis, and graphql-ws
 * subscribers (one socket each) split evenly across them, driven from two client processes.
 * Instance A publishes events at a fixed rate through its pub/sub (the path training uses);
 * Redis carries them to both instances, which fan them out to their sockets.
 * Prints one JSON object per subscriber count:
 *   latencyMs p50/p90/p99/max (publish -> client `next`, one machine clock), delivered/expected,
 *   server CPU per delivery, server memory per subscriber (heap and RSS growth after GC).
 *
 *   npm run bench:realtime -- [--subscribers 100,1000] [--events 150] [--rate 10]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createClient, type Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logging.ts';
import { createServer } from '../src/server.ts';
import { exitWithParent } from './parent.ts';

const CLIENT = { id: 'bench', secret: 'bench-secret-0123456789abcdef' };
const QUERY = 'subscription { trainingProgress { progress stage status message } }';
const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const now = () => performance.timeOrigin + performance.now();

type Msg = { kind: string; [k: string]: any };

if (args.includes('--instance')) await instance();
else if (args.includes('--clients')) clients();
else await main();

async function main() {
  const counts = flag('subscribers', '100,1000').split(',').map(Number);
  const events = Number(flag('events', '150'));
  const rate = Number(flag('rate', '10'));
  const env = {
    REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `bench-${randomUUID()}:`,
  };
  const instances = [spawn('--instance', env), spawn('--instance', env)] as const;
  try {
    const started = await Promise.all(instances.map((p) => p.next('listening')));
    const urls = started.map((m) => m.url as string);
    const token = started[0]!.token as string;

    for (const subscribers of counts) {
      const half = [Math.ceil(subscribers / 2), Math.floor(subscribers / 2)];
      for (const p of instances) p.send({ kind: 'baseline' });
      await Promise.all(instances.map((p) => p.next('baseline')));
      const clientProcs = [0, 1].map(() => spawn('--clients', env));
      clientProcs.forEach((c, i) => c.send({ kind: 'connect', url: urls[i], token, subscribers: half[i] }));
      await Promise.all(clientProcs.map((c) => c.next('connected')));
      instances.forEach((p, i) => p.send({ kind: 'await-subscribers', more: half[i] }));
      const memory = await Promise.all(instances.map((p) => p.next('subscribed')));

      for (const p of instances) p.send({ kind: 'cpu-start' });
      await Promise.all(instances.map((p) => p.next('cpu-started')));
      instances[0].send({ kind: 'publish', events, rate });
      await instances[0].next('published');
      clientProcs.forEach((c, i) => c.send({ kind: 'finish', expected: half[i]! * events }));
      const reports = await Promise.all(clientProcs.map((c) => c.next('report')));
      for (const p of instances) p.send({ kind: 'cpu-stop' });
      const cpu = await Promise.all(instances.map((p) => p.next('cpu')));
      await Promise.all(clientProcs.map((c) => c.exited));
      instances.forEach((p) => p.send({ kind: 'await-subscribers', more: 0 }));
      await Promise.all(instances.map((p) => p.next('subscribed')));

      const latencies = reports.flatMap((r) => r.latencies as number[]).sort((x, y) => x - y);
      const baseline = reports.flatMap((r) => r.baseline as number[]).sort((x, y) => x - y);
      const pick = (xs: number[], p: number) => round(xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN);
      const q = (p: number) => pick(latencies, p);
      const delivered = reports.reduce((n, r) => n + r.delivered, 0);
      const expected = subscribers * events;
      const sum = (xs: Msg[], k: string) => xs.reduce((n, x) => n + (x[k] as number), 0);
      console.log(
        JSON.stringify({
          subscribers,
          instances: 2,
          transport: 'graphql-ws, Redis pub/sub between instances',
          events,
          ratePerSecond: rate,
          expected,
          delivered,
          deliveredRatio: delivered / expected,
          errors: sum(reports, 'errors'),
          outOfOrder: sum(reports, 'outOfOrder'),
          latencyMs: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) },
          // The floor in the same run: a bare Redis subscriber in each client process, on the same
          // channel, under the same load. The ratio is what GraphQL + graphql-ws fan-out adds.
          baselineLatencyMs: { p50: pick(baseline, 0.5), p99: pick(baseline, 0.99), what: 'raw Redis SUBSCRIBE in the client process' },
          ratioP99OverBaseline: round(q(0.99) / Math.max(0.01, pick(baseline, 0.99))),
          serverCpuMicrosPerDelivery: round(sum(cpu, 'micros') / delivered),
          memoryPerSubscriberKB: {
            heap: round(sum(memory, 'heap') / subscribers / 1024),
            rss: round(sum(memory, 'rss') / subscribers / 1024),
          },
          machine: { cpus: os.cpus().length, loadAverage1m: round(os.loadavg()[0]!), node: process.version },
        }),
      );
    }
  } finally {
    for (const p of instances) p.send({ kind: 'stop' });
    await Promise.all(instances.map((p) => p.exited));
  }
}

/** One gateway instance; instance A also publishes when told to. */
async function instance() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-bench-rt-'));
  const config = loadConfig({
    ...process.env,
    DATA_DIR: dir,
    PORT: '0',
    HOST: '127.0.0.1',
    SPECTRO_CLIENT_ID: CLIENT.id,
    SPECTRO_CLIENT_SECRET: CLIENT.secret,
    JWT_SECRET: 'bench-realtime-jwt-secret-0123456789abcdef',
    // Thousands of sockets of one client from one address: the per-client caps would refuse them.
    WS_MAX_CONNECTIONS_PER_SOURCE: '100000',
    WS_MAX_CONNECTIONS_PER_CLIENT: '100000',
    EXECUTION_PROVIDER: 'cpu',
    LOG_LEVEL: 'warn',
  });
  const server = await createServer(config, { log: createLogger('warn') });
  const { url } = await server.start();
  const { pubsub, auth } = server.services;
  const { accessToken } = await auth.issueToken(CLIENT.id, CLIENT.secret);
  let base = { subscribers: 0, heap: 0, rss: 0 };
  let cpu0 = process.cpuUsage();
  const reply = (m: Msg) => process.send!(m);
  exitWithParent();
  reply({ kind: 'listening', url: `${url.replace('http', 'ws')}/graphql`, token: accessToken });

  process.on('message', async (m: Msg) => {
    switch (m.kind) {
      case 'baseline':
        base = { subscribers: pubsub.stats().subscribers, heap: gc(), rss: process.memoryUsage().rss };
        return reply({ kind: 'baseline' });
      case 'await-subscribers': {
        const want = base.subscribers + m.more;
        while (pubsub.stats().subscribers !== want || pubsub.stats().pending > 0) await sleep(20);
        return reply({ kind: 'subscribed', heap: gc() - base.heap, rss: process.memoryUsage().rss - base.rss });
      }
      case 'cpu-start':
        cpu0 = process.cpuUsage();
        return reply({ kind: 'cpu-started' });
      case 'cpu-stop': {
        const c = process.cpuUsage(cpu0);
        return reply({ kind: 'cpu', micros: c.user + c.system });
      }
      case 'publish': {
        // Scheduled against the clock, so that the rate does not drift with the work.
        const start = now();
        for (let n = 0; n < m.events; n++) {
          const wait = start + (n * 1000) / m.rate - now();
          if (wait > 0) await sleep(wait);
          await pubsub.publish('trainingProgress', 'bench-model', {
            modelId: 'bench-model',
            progress: n / m.events,
            stage: String(n),
            status: 'TRAINING',
            message: String(now()),
            at: new Date().toISOString(),
          });
        }
        return reply({ kind: 'published' });
      }
      case 'stop':
        await server.stop();
        fs.rmSync(dir, { recursive: true, force: true });
        process.exit(0);
    }
  });
}

/** graphql-ws clients of one instance, one socket per subscriber. */
function clients() {
  const sockets: Client[] = [];
  const latencies: number[] = [];
  const baseline: number[] = [];
  let raw: Redis | null = null;
  let delivered = 0;
  let errors = 0;
  let outOfOrder = 0;
  exitWithParent();
  process.on('message', async (m: Msg) => {
    if (m.kind === 'finish') {
      // What is still in flight has 10 s to arrive.
      const deadline = Date.now() + 10_000;
      while (delivered + errors < m.expected && Date.now() < deadline) await sleep(20);
      await Promise.all(sockets.map((c) => c.dispose()));
      raw?.disconnect();
      // A large message: exit only once it has been handed over.
      await new Promise((r) => process.send!({ kind: 'report', delivered, errors, outOfOrder, latencies, baseline }, r));
      process.exit(0);
    }
    raw = new Redis(process.env.REDIS_URL!);
    await raw.subscribe(`${process.env.REDIS_PREFIX}trainingProgress:bench-model`);
    raw.on('message', (_channel: string, message: string) => {
      baseline.push(now() - Number((JSON.parse(message) as { message: string }).message));
    });
    // Connect in waves: a thousand simultaneous handshakes would only measure the accept queue.
    for (let i = 0; i < m.subscribers; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, m.subscribers - i) }, () => {
          return new Promise<void>((resolve, reject) => {
            const client = createClient({
              url: m.url,
              webSocketImpl: WebSocket,
              lazy: false,
              retryAttempts: 0,
              onNonLazyError: reject,
              connectionParams: { authorization: `Bearer ${m.token}` },
              on: { connected: () => resolve() },
            });
            sockets.push(client);
            let last = -1;
            client.subscribe<{ trainingProgress: { stage: string; message: string } }>(
              { query: QUERY },
              {
                next: (r) => {
                  const got = now();
                  if (!r.data) return void errors++;
                  delivered++;
                  latencies.push(got - Number(r.data.trainingProgress.message));
                  const n = Number(r.data.trainingProgress.stage);
                  if (n <= last) outOfOrder++;
                  last = n;
                },
                error: () => void errors++,
                complete: () => {},
              },
            );
          });
        }),
      );
    }
    process.send!({ kind: 'connected' });
  });
}

/** A child process of this script in a role, with a message queue. */
function spawn(role: string, env: Record<string, string>) {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [role], {
    execArgv: [...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)],
    env: { ...process.env, ...env },
  });
  const queue: Msg[] = [];
  const waiting: (() => void)[] = [];
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  child.on('message', (m: Msg) => {
    queue.push(m);
    waiting.splice(0).forEach((f) => f());
  });
  return {
    exited,
    send: (m: Msg) => child.send(m),
    next: (kind: string) =>
      new Promise<Msg>((resolve, reject) => {
        const look = () => {
          const i = queue.findIndex((m) => m.kind === kind);
          if (i >= 0) resolve(queue.splice(i, 1)[0]!);
          else waiting.push(look);
        };
        void exited.then((code) => reject(new Error(`${role} exited (${code}) before "${kind}"`)));
        look();
      }),
  };
}

function gc(): number {
  v8.setFlagsFromString('--expose-gc');
  const collect = vm.runInNewContext('gc') as () => void;
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

function round(x: number) {
  return Math.round(x * 100) / 100;
}
