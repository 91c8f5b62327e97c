/**
 * The graph's own cost: a dashboard's nested read over HTTP against the gateway, and against a
 * minimal Yoga server answering the same shape from memory (no store, no auth, no plugins), in one
 * run, the two taking turns (`--rounds` windows of `--seconds` each) so that other load on the
 * machine falls on both alike. Each server is its own process on port 0; the load generator
 * (undici, `--concurrency` requests at a time) runs here. JSON on stdout.
 *
 *   node bench/graph.ts [--seconds 3] [--rounds 2] [--concurrency 32] [--stored 10] [--profile DIR]
 *
 * `--stored N` puts N items in the target (the answer still holds the newest 10).
 *
 * `--profile DIR` writes the gateway process's V8 CPU profile (.cpuprofile) into DIR.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { Pool } from 'undici';
import { loadConfig } from '../src/config.ts';
import { createStore } from '../src/runtime/store/index.ts';
import { percentile, round } from './camera.ts';
import { clientToken, type GraphqlPost, graphqlPost } from './graphql-client.ts';
import { exitWithParent } from './parent.ts';

const CLIENT = { id: 'bench', secret: 'bench-secret-0123456789abcdef' };
/** Items in the answer (the query's `first`). */
const ITEMS = 10;
const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};

const QUERY = /* GraphQL */ `
  query Dashboard {
    targets {
      items(first: 10) {
        edges { node { id name images { url width height } } }
      }
    }
  }
`;

if (args.includes('--serve')) await serve();
else if (args.includes('--serve-minimal')) await serveMinimal();
else await main();

async function serve() {
  const { createServer } = await import('../src/server.ts');
  const { createLogger } = await import('../src/logging.ts');
  const server = await createServer(loadConfig(process.env), { log: createLogger('warn') });
  const { url } = await server.start();
  process.send!({ url });
  exitWithParent();
  process.on('message', async (m) => {
    if (m === 'cpu') return process.send!({ cpu: process.cpuUsage() });
    await server.stop();
    process.exit(0);
  });
}

/** The baseline: Yoga with a hand-written schema of the same shape, answered from memory. */
async function serveMinimal() {
  const { createSchema, createYoga } = await import('graphql-yoga');
  const items = Array.from({ length: ITEMS }, (_, i) => ({
    id: `item-${i}`,
    name: `p${i}.png`,
    images: [{ url: `http://127.0.0.1/files/${i}?sig=${'x'.repeat(43)}`, width: 256, height: 256 }],
  }));
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: /* GraphQL */ `
        type Image { url: String! width: Int! height: Int! }
        type Item { id: ID! name: String! images: [Image!]! }
        type ItemEdge { node: Item! }
        type ItemConnection { edges: [ItemEdge!]! }
        type Target { items(first: Int): ItemConnection! }
        type Query { targets: [Target!]! }
      `,
      resolvers: {
        Query: { targets: () => [{}] },
        Target: { items: (_: unknown, a: { first?: number }) => ({ edges: items.slice(0, a.first ?? ITEMS).map((node) => ({ node })) }) },
      },
    }),
    logging: false,
  });
  const server = createHttpServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  process.send!({ url: `http://127.0.0.1:${port}` });
  exitWithParent();
  process.on('message', (m) => {
    if (m === 'cpu') return process.send!({ cpu: process.cpuUsage() });
    server.close(() => process.exit(0));
  });
}

async function main() {
  const seconds = Number(flag('seconds', '3'));
  const rounds = Number(flag('rounds', '2'));
  const concurrency = Number(flag('concurrency', '32'));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-bench-graph-'));
  try {
    const dataDir = path.join(root, 'data');
    const store = await createStore({ dataDir });
    const target = await store.createTarget('bench', []);
    const png = await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 90, g: 90, b: 90 } } })
      .png()
      .toBuffer();
    const blob = await store.blobs.put(png);
    // The target's whole history (`--stored`, default 10): a line that has run for a day holds
    // tens of thousands of pictures, while the dashboard still asks for the newest 10.
    const stored = Math.max(ITEMS, Number(flag('stored', String(ITEMS))));
    for (let done = 0; done < stored; done += 1000) {
      await store.addItems(
        Array.from({ length: Math.min(1000, stored - done) }, (_, j) => ({
          name: `p${done + j}.png`,
          targetId: target.id,
          type: (j % 5 === 0 ? 'TRAINING' : 'PREDICTION') as 'TRAINING' | 'PREDICTION',
          good: null,
          images: [{ name: `p${done + j}.png`, blob, width: 256, height: 256, fileSize: png.byteLength, contentType: 'image/png' }],
        })),
      );
    }
    await store.close();

    const start = async (mode: '--serve' | '--serve-minimal') => {
      const profile = flag('profile', '');
      const child = fork(fileURLToPath(import.meta.url), [mode], {
        execArgv: profile && mode === '--serve' ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profile)] : [],
        env: {
          ...process.env,
          DATA_DIR: dataDir,
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
      const pool = new Pool(url, { connections: concurrency, pipelining: 1 });
      return { child, pool, post: graphqlPost(pool) };
    };
    const gateway = await start('--serve');
    const minimal = await start('--serve-minimal');
    const token = await clientToken(gateway.post, CLIENT);
    const check = await gateway.post({ query: QUERY }, token);
    const shown = check.targets.reduce((n: number, t: any) => n + t.items.edges.length, 0);
    if (shown < ITEMS) throw new Error(`the gateway answered ${shown} items, expected ${ITEMS}`);

    // The server process's own CPU time (user + system), read over IPC before and after a window.
    const cpuOf = (child: ChildProcess) =>
      new Promise<number>((resolve) => {
        const onMessage = (m: unknown) => {
          const cpu = (m as { cpu?: NodeJS.CpuUsage }).cpu;
          if (!cpu) return;
          child.off('message', onMessage);
          resolve(cpu.user + cpu.system);
        };
        child.on('message', onMessage);
        child.send('cpu');
      });
    const window = async ({ post, child }: { post: GraphqlPost; child: ChildProcess }, tok?: string) => {
      // Warm-up at full concurrency (JIT, pools, caches), then the measured window.
      const warm = performance.now() + 1000;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < warm) await post({ query: QUERY }, tok);
        }),
      );
      const cpu0 = await cpuOf(child);
      const end = performance.now() + seconds * 1000;
      const t0 = performance.now();
      const lat: number[] = [];
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < end) {
            const s = performance.now();
            await post({ query: QUERY }, tok);
            lat.push(performance.now() - s);
          }
        }),
      );
      const cpuMicros = (await cpuOf(child)) - cpu0;
      lat.sort((a, b) => a - b);
      return {
        perSecond: round(lat.length / ((performance.now() - t0) / 1000)),
        p50Ms: round(percentile(lat, 50)),
        p99Ms: round(percentile(lat, 99)),
        serverCpuMicrosPerRequest: round(cpuMicros / lat.length),
      };
    };
    const runs: { gateway: unknown; minimal: unknown }[] = [];
    let g = 0;
    let m = 0;
    let gCpu = 0;
    let mCpu = 0;
    for (let r = 0; r < rounds; r++) {
      const gw = await window(gateway, token);
      const mn = await window(minimal);
      g += gw.perSecond;
      m += mn.perSecond;
      gCpu += gw.serverCpuMicrosPerRequest;
      mCpu += mn.serverCpuMicrosPerRequest;
      runs.push({ gateway: gw, minimal: mn });
    }
    for (const s of [gateway, minimal]) {
      await s.pool.close();
      s.child.send('stop');
      await new Promise((r) => s.child.once('exit', r));
    }
    console.log(
      JSON.stringify({
        query: 'targets { items(first: 10) { edges { node { id name images { url width height } } } } }',
        storedItems: stored,
        concurrency,
        seconds,
        rounds: runs,
        gatewayPerSecond: round(g / rounds),
        minimalYogaPerSecond: round(m / rounds),
        ratio_gateway_over_minimal: round(g / m),
        goal_ratio_at_least_0_5: g / m >= 0.5,
        // The same comparison by the servers' own CPU per request, which other load on the machine moves less.
        serverCpuMicrosPerRequest: { gateway: round(gCpu / rounds), minimal: round(mCpu / rounds) },
        cpu_ratio_minimal_over_gateway: round(mCpu / gCpu),
        machine: { cpus: os.cpus().length, loadAverage1m: round(os.loadavg()[0]!), node: process.version },
      }),
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
