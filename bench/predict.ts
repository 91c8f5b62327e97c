/**
 * Prediction throughput, three ways, in one run (JSON on stdout):
 *  (a) raw `session.run` on preprocessed tensors (batch 1, and batch MAX_BATCH for reference);
 *  (b) the minimal pipeline a hand-written script needs: read file, decode + preprocess (sharp),
 *      `session.run`, one image after the other;
 *  (c) end-to-end `predict` over HTTP against the real server (createServer, port 0, in a child
 *      process so the load generator does not share its event loop), one item per request, at
 *      concurrency 1, 8 and 32, with micro-batching on and off.
 * Ratios (c)/(b) and (c)/(a) are printed for concurrency 32 with batching on.
 *
 * Camera-size workloads (`--camera 2448x2048,4096x3000`, on by default): JPEGs generated in code
 * (bench/camera.ts), one picture per request at each concurrency, items of `--multi` pictures at
 * concurrency 8, and the same model with tiling (InputSpec.tiling, `--tile-long-side`); each next
 * to its own (b) (read, sharp decode + resize, run, one after another) and (a) at the batch size
 * the server used, with p50/p99 latency and the server's time per stage (from its /metrics).
 *
 *   npm run bench:predict -- [--algorithm pattern-matching] [--seconds 5] [--size 256]
 *                            [--input-size 128] [--provider cpu|cuda] [--images 48]
 *                            [--camera 2448x2048,4096x3000|none] [--multi 4] [--tile-long-side 1224] [--tile-batch 1]
 *                            [--rate 10] (open-loop requests/s on the first camera size: p50/p99)
 *                            [--quick]   (2 s windows, batching on only, 16 pictures: a shared machine)
 *                            [--only c1,steady] (only these parts: `c1` the concurrency-1 account, `steady` the open loop,
 *                             `throughput`; any other name, e.g. `processes`, runs only what --processes asks for)
 *                            [--c1-rounds 3] [--steady-seconds 4] [--server-exec-argv "--cpu-prof"]
 *                            [--sqlite-synchronous full|normal] (the server's SQLITE_SYNCHRONOUS)
 *                            [--processes 1,2] (N gateway processes on one port, REUSE_PORT: c32 and items of 4 per N)
 *                            [--inference own,shared] (with --processes: each process's own sessions, and/or one shared
 *                             inference process, `npm run inference`, that every gateway runs its models in: INFERENCE_SOCKET)
 *
 * Requests the server refuses (its admission queue full or past PREDICT_QUEUE_DEADLINE_MS:
 * UNAVAILABLE) are counted as `rejected`. A slow model (`--algorithm patch-sample --input-size 256`,
 * tiled: about a second per 5 MP picture on 2 cores) at c32 waits longer than the default 10 s:
 * run it with PREDICT_QUEUE_DEADLINE_MS=120000 in the environment to measure throughput instead.
 *
 * The c1 account: (b) and end-to-end c1 take turns (`--c1-rounds` windows each) on the 256 px
 * pictures and the first camera size; the client's mean latency is split stage by stage with the
 * server's /metrics (bench/camera.ts c1Account) next to the loop's own read/decode/run times.
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { Pool } from 'undici';
import { loadConfig } from '../src/config.ts';
import { toTensor, tensorSize } from '../src/runtime/images/tensor.ts';
import { sessionOptions } from '../src/runtime/onnx/session.ts';
import { parseInputSpec } from '../src/runtime/onnx/schemas.ts';
import { createPubSub } from '../src/runtime/pubsub/index.ts';
import { createStore } from '../src/runtime/store/index.ts';
import type { ModelRecord } from '../src/runtime/store/types.ts';
import { createTrainingService } from '../src/runtime/training/index.ts';
import { generateImage, toPng, ALL_DEFECTS } from './synthetic.ts';
import { clientToken, graphqlPost } from './graphql-client.ts';
import { accountTable, c1Account, cameraJpeg, parseMetrics, parseSize, percentile, round, stages, stageTails, type LoopStages, type Series } from './camera.ts';
import { decodeTiles } from '../src/runtime/images/tiles.ts';
import type { InputSpec, TilingSpec } from '../src/runtime/onnx/contract.ts';
import { exitWithParent } from './parent.ts';

const CLIENT = { id: 'bench', secret: 'bench-secret-0123456789abcdef' };
const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};

/** The model and run of the minimal loop (set in main, used by loopStaged). */
let loopSpec: InputSpec | null = null;
let loopRun: ((data: Float32Array, n: number) => Promise<unknown>) | null = null;

if (args.includes('--serve')) await serve();
else await main();

/** Child process: the real server on the prepared data dir, until told to stop. */
async function serve() {
  const { createServer } = await import('../src/server.ts');
  const { createLogger } = await import('../src/logging.ts');
  const server = await createServer(loadConfig(process.env), { log: createLogger('warn') });
  const { url } = await server.start();
  process.send!({ url, provider: server.services.inference.provider });
  exitWithParent();
  // GC pauses and event-loop delay, for the open loop's tail (asked for by the parent).
  const { PerformanceObserver, monitorEventLoopDelay } = await import('node:perf_hooks');
  const gcs: { at: number; ms: number; kind: number }[] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      gcs.push({ at: performance.timeOrigin + e.startTime, ms: e.duration, kind: (e as { detail?: { kind?: number } }).detail?.kind ?? 0 });
  }).observe({ entryTypes: ['gc'] });
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  process.on('message', async (m: { type?: string }) => {
    if (m?.type === 'gc-reset') {
      gcs.length = 0;
      loop.reset();
      return;
    }
    if (m?.type === 'gc') {
      const mem = process.memoryUsage();
      process.send!({
        gcs,
        loopDelayMs: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
        heapMB: { used: Math.round(mem.heapUsed / 2 ** 20), total: Math.round(mem.heapTotal / 2 ** 20), rss: Math.round(mem.rss / 2 ** 20) },
      });
      return;
    }
    await server.stop();
    process.exit(0);
  });
}

async function main() {
  const quick = args.includes('--quick');
  const seconds = Number(flag('seconds', quick ? '2' : '5'));
  const size = Number(flag('size', '256'));
  const inputSize = flag('input-size', '128');
  const provider = flag('provider', 'cpu') as 'cpu' | 'cuda';
  const count = Number(flag('images', quick ? '16' : '48'));
  const cameraSizes = flag('camera', '2448x2048,4096x3000') === 'none' ? [] : flag('camera', '2448x2048,4096x3000').split(',').map(parseSize);
  const multi = Number(flag('multi', '4'));
  const tileLongSide = Number(flag('tile-long-side', '1224'));
  const cameraCount = quick ? 4 : 8;
  const maxBatch = Number(flag('max-batch', String(loadConfig({}).maxBatchSize)));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-bench-predict-'));
  const log = { info() {}, warn() {}, error() {}, debug() {} };
  const only = flag('only', 'all').split(',');
  const part = (name: string) => only.includes('all') || only.includes(name);
  const out: Record<string, unknown> = {
    provider,
    seconds,
    imageSize: size,
    images: count,
    cpus: os.cpus().length,
    availableParallelism: os.availableParallelism(),
    loadAverage1mAtStart: round(os.loadavg()[0]!),
  };

  try {
    // ---- prepare: train a model on synthetic aligned parts, store prediction items, write files
    const dataDir = path.join(root, 'data');
    const store = await createStore({ dataDir });
    const pubsub = await createPubSub({ log });
    const training = await createTrainingService({ store, pubsub, config: { trainingConcurrency: 1 }, log });
    const algorithms = await store.listAlgorithms();
    const algorithmId = flag('algorithm', algorithms.find((a) => a.id === 'pattern-matching')?.id ?? algorithms[0]!.id);
    const target = await store.createTarget('bench', []);
    const png = async (seed: number, defect: boolean) =>
      toPng(generateImage('plate', { seed, size, defect: defect ? ALL_DEFECTS[seed % ALL_DEFECTS.length]! : null }));
    const put = async (type: 'TRAINING' | 'PREDICTION', pngs: Buffer[], good: boolean | null) =>
      store.addItems(
        await Promise.all(
          pngs.map(async (p, i) => ({
            name: `${type.toLowerCase()}-${i}.png`,
            targetId: target.id,
            type,
            good,
            images: [{ name: `${i}.png`, blob: await store.blobs.put(p), width: size, height: size, fileSize: p.byteLength, contentType: 'image/png' }],
          })),
        ),
      );
    const trainItems = await put('TRAINING', await Promise.all(Array.from({ length: 16 }, (_, i) => png(1000 + i, false))), true);
    const started = Date.now();
    const queued = await training.train({
      algorithmId,
      targetId: target.id,
      itemIds: trainItems.map((i) => i.id),
      overrideParams: [{ name: 'input_size', value: inputSize }],
    });
    let model: ModelRecord = queued;
    while (model.status === 'QUEUED' || model.status === 'TRAINING') {
      await new Promise((r) => setTimeout(r, 200));
      [model] = (await store.modelsByIds([queued.id])) as [ModelRecord];
    }
    if (model.status !== 'READY') throw new Error(`training ended ${model.status}: ${model.statusText}`);
    await training.close();
    model = await store.activateModel(model.id);
    const spec = parseInputSpec(model.inputSpec)!;
    out.model = { algorithm: algorithmId, input: `${spec.width}x${spec.height} ${spec.color}`, trainingSeconds: (Date.now() - started) / 1000 };

    const pics = await Promise.all(Array.from({ length: count }, (_, i) => png(5000 + i, i % 2 === 1)));
    const items = await put('PREDICTION', pics, null);
    const files = pics.map((p, i) => {
      const f = path.join(root, `img-${i}.png`);
      fs.writeFileSync(f, p);
      return f;
    });
    // Camera-size workloads: items of one JPEG each, items of `multi` JPEGs, and a second model
    // (the same graph) that cuts pictures into tiles.
    const camera: CameraWorkload[] = [];
    for (const [w, h] of cameraSizes) {
      const jpgs = await Promise.all(Array.from({ length: cameraCount }, (_, i) => cameraJpeg(w, h, 7000 + i, i % 2 === 1)));
      const blobs = await Promise.all(jpgs.map((j) => store.blobs.put(j)));
      const image = (i: number, k = 0) => ({
        name: `cam-${i}-${k}.jpg`,
        blob: blobs[i]!,
        width: w,
        height: h,
        fileSize: jpgs[i]!.byteLength,
        contentType: 'image/jpeg',
      });
      const single = await store.addItems(
        jpgs.map((_, i) => ({ name: `cam-${w}x${h}-${i}`, targetId: target.id, type: 'PREDICTION' as const, good: null, images: [image(i)] })),
      );
      const multiItems = await store.addItems(
        jpgs.map((_, i) => ({
          name: `cam-${w}x${h}-multi-${i}`,
          targetId: target.id,
          type: 'PREDICTION' as const,
          good: null,
          images: Array.from({ length: multi }, (_, k) => image((i + k) % jpgs.length, k)),
        })),
      );
      const files = jpgs.map((j, i) => {
        const f = path.join(root, `cam-${w}x${h}-${i}.jpg`);
        fs.writeFileSync(f, j);
        return f;
      });
      camera.push({
        label: `${w}x${h}`,
        items: single.map((i) => i.id),
        multiItems: multiItems.map((i) => i.id),
        files,
        jpegKB: round(jpgs.reduce((n, j) => n + j.byteLength, 0) / jpgs.length / 1024),
      });
    }
    const tiling: TilingSpec = { longSide: tileLongSide, overlap: 16 };
    const tiledModel =
      camera.length > 0
        ? await store.updateModel((await store.createModel({ ...model, name: 'bench-tiled', status: 'READY', trainItemIds: [] })).id, {
            onnxBlob: model.onnxBlob,
            inputSpec: { ...spec, tiling },
          })
        : null;
    const onnx = await store.blobs.get(model.onnxBlob!);
    await pubsub.close();
    await store.close();

    // ---- (a) raw session.run, (b) minimal pipeline: in this process, nothing else running
    const session = await ort.InferenceSession.create(onnx, sessionOptions(provider));
    const c = spec.color === 'rgb' ? 3 : 1;
    const tensors = await Promise.all(pics.map((p) => toTensor(p, spec)));
    const run = (data: Float32Array, n: number) => session.run({ images: new ort.Tensor('float32', data, [n, c, spec.height, spec.width]) });
    loopSpec = spec;
    loopRun = run;
    await run(tensors[0]!, 1);
    const all = part('throughput');
    out.a_rawRun = await timed(all ? seconds : 0.2, async (i) => {
      await run(tensors[i % count]!, 1);
      return 1;
    });
    const batch = new Float32Array(maxBatch * tensorSize(spec));
    for (let k = 0; k < maxBatch; k++) batch.set(tensors[k % count]!, k * tensorSize(spec));
    out[`a_rawRunBatch${maxBatch}`] = await timed(all ? seconds : 0.2, async () => {
      await run(batch, maxBatch);
      return maxBatch;
    });
    out.b_minimalPipeline = await timed(all ? seconds : 0.2, async (i) => {
      const bytes = await fs.promises.readFile(files[i % count]!);
      await run(await toTensor(bytes, spec), 1);
      return 1;
    });

    // (b) on camera-size JPEGs, whole-picture resize and tiled: the hand-written loop.
    const bCamera: Record<string, number> = {};
    for (const w of camera) {
      bCamera[w.label] = await timed(all ? seconds : 0.2, async (i) => {
        const bytes = await fs.promises.readFile(w.files[i % w.files.length]!);
        await run(await toTensor(bytes, spec), 1);
        return 1;
      });
    }
    const tiledSpec = { ...spec, tiling } as InputSpec & { tiling: TilingSpec };
    const tilesPer: Record<string, number> = {};
    // The tiles' batch size: what calibration keeps on this provider (on a 2-core CPU batch 1 runs
    // fastest per picture; on a GPU the largest batch).
    const tileBatch = Number(flag('tile-batch', provider === 'cuda' ? String(maxBatch) : '1'));
    for (const w of all ? camera.slice(0, 1) : []) {
      const per = tensorSize(spec);
      bCamera[`${w.label}_tiled`] = await timed(seconds, async (i) => {
        const pic = await decodeTiles(await fs.promises.readFile(w.files[i % w.files.length]!), tiledSpec);
        tilesPer[w.label] = pic.tiles.length;
        for (let k = 0; k < pic.tiles.length; k += tileBatch) {
          const n = Math.min(tileBatch, pic.tiles.length - k);
          await run(pic.data.subarray(k * per, (k + n) * per), n);
        }
        return 1;
      });
    }
    out.b_camera = bCamera;
    out.tilesPerPicture = tilesPer;
    // sharp's own decode rate on every core: the file decoded and shrunk to the model's input
    // (shrink-on-load, as the gateway decodes), one call in flight per core, nothing else. The
    // ceiling for pictures that are decode-bound (issue 13: end to end within 0.8 x of it).
    const cores = os.availableParallelism();
    const decodeCeiling: Record<string, number> = {};
    for (const w of camera) {
      const files = await Promise.all(w.files.map((f) => fs.promises.readFile(f)));
      decodeCeiling[w.label] = await timed(
        all ? seconds : 0.2,
        async (i) => {
          await sharp(files[i % files.length]!)
            .resize(spec.width, spec.height, { fit: 'fill' })
            .removeAlpha()
            .raw()
            .toBuffer();
          return 1;
        },
        cores,
      );
    }
    out.decodeCeiling = { cores, picturesPerSecond: decodeCeiling };

    // ---- (c) end-to-end over HTTP, batching on and off
    const c_: Record<string, number> = {};
    const cCamera: Record<string, unknown> = {};
    const spawnServer = async (env: Record<string, string>) => {
      const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
        // e.g. `--server-exec-argv "--cpu-prof --cpu-prof-dir=/tmp/prof"` to profile the server.
        execArgv: flag('server-exec-argv', '').split(' ').filter(Boolean),
        env: {
          ...process.env,
          PORT: '0',
          HOST: '127.0.0.1',
          EXECUTION_PROVIDER: provider,
          BATCHING: 'on',
          SQLITE_SYNCHRONOUS: flag('sqlite-synchronous', process.env.SQLITE_SYNCHRONOUS || 'full'),
          MAX_BATCH_SIZE: String(maxBatch),
          SPECTRO_CLIENT_ID: CLIENT.id,
          SPECTRO_CLIENT_SECRET: CLIENT.secret,
          LOG_LEVEL: 'warn',
          ...env,
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const { url, provider: used } = await new Promise<{ url: string; provider: string }>((resolve, reject) => {
        child.once('message', (m) => resolve(m as { url: string; provider: string }));
        child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
      });
      return { child, url, provider: used };
    };
    // Several gateway processes (REUSE_PORT) on one port, each with its own onnxruntime session
    // and decode threads (the cores split between them). Each has its own copy of the data
    // directory (the same records and models; one JWT_SECRET): a predict reads and writes only its
    // own records, so this measures what N event loops and N sessions do on this machine; a real
    // deployment shares PostgreSQL and Redis (docs/operations.md).
    const processCounts = flag('processes', '').split(',').filter(Boolean).map(Number);
    if (processCounts.length > 0) {
      const perN: Record<string, unknown> = {};
      const max = Math.max(...processCounts);
      for (let k = 1; k < max; k++) fs.cpSync(dataDir, `${dataDir}-${k}`, { recursive: true });
      const inferenceModes = flag('inference', 'own').split(',') as ('own' | 'shared')[];
      for (const n of processCounts)
        for (const mode of inferenceModes) {
          // One inference process for all N gateways (`npm run inference`), or none: each its own sessions.
          let inference: ChildProcess | null = null;
          const socketPath = path.join(root, `inference-${n}.sock`);
          if (mode === 'shared') {
            inference = fork(fileURLToPath(new URL('../src/inference-main.ts', import.meta.url)), [], {
              env: { ...process.env, INFERENCE_SOCKET: socketPath, EXECUTION_PROVIDER: provider, LOG_LEVEL: 'warn' },
              stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
            });
            for (let t = 0; !fs.existsSync(socketPath); t++) {
              if (t > 600) throw new Error('the inference process did not start');
              await new Promise((r) => setTimeout(r, 50));
            }
          }
          const port = await new Promise<number>((resolve) => {
            const srv = net.createServer().listen(0, '127.0.0.1', () => {
              const p = (srv.address() as net.AddressInfo).port;
              srv.close(() => resolve(p));
            });
          });
          const threads = String(Math.max(1, Math.floor(os.availableParallelism() / n)));
          const servers = [];
          for (let k = 0; k < n; k++)
            servers.push(
              await spawnServer({
                DATA_DIR: k === 0 ? dataDir : `${dataDir}-${k}`,
                PORT: String(port),
                REUSE_PORT: 'on',
                DECODE_THREADS: threads,
                JWT_SECRET: 'bench-processes-jwt-secret-0123456789abcdef0123456789',
                ...(inference ? { INFERENCE_SOCKET: socketPath } : {}),
              }),
            );
          const pool = new Pool(servers[0]!.url, { connections: 64, pipelining: 1 });
          const gql = graphqlPost(pool);
          const token = await clientToken(gql, CLIENT);
          const predictIds = (ids: string[]) =>
            gql({ query: 'mutation($ids: [ID!]!) { predict(modelId: "active", itemIds: $ids) { id result score } }', variables: { ids } }, token);
          // Warm every process's session: more requests than processes, from many connections.
          await Promise.all(Array.from({ length: 8 * n }, (_, i) => predictIds([items[i % count]!.id])));
          const row: Record<string, unknown> = { decodeThreadsEach: Number(threads), loadAverage1mAtStart: round(os.loadavg()[0]!) };
          row.png256_c32 = await loadTest(seconds, (i) => predictIds([items[i % count]!.id]), 32);
          for (const w of camera.slice(0, 1)) {
            await Promise.all(Array.from({ length: 4 * n }, (_, i) => predictIds([w.items[i % w.items.length]!])));
            row[`${w.label}_c32`] = await loadTest(seconds, (i) => predictIds([w.items[i % w.items.length]!]), 32);
            const m = await loadTest(seconds, (i) => predictIds([w.multiItems[i % w.multiItems.length]!]), 8);
            row[`${w.label}_c8_items_of_${multi}`] = { ...m, picturesPerSecond: round(m.perSecond * multi) };
          }
          perN[mode === 'shared' ? `${n}-shared-inference` : String(n)] = row;
          await pool.close();
          for (const s of servers) {
            s.child.send('stop');
            await new Promise((r) => s.child.once('exit', r));
          }
          if (inference) {
            inference.kill('SIGTERM');
            await new Promise((r) => inference!.once('exit', r));
          }
        }
      out.processes = perN;
    }
    const batchings = flag('batching', quick ? 'on' : 'on,off').split(',') as ('on' | 'off')[];
    for (const batching of batchings) {
      const { child, url, provider: used } = await spawnServer({ DATA_DIR: dataDir, BATCHING: batching });
      out.serverProvider = used;
      out.sqliteSynchronous = flag('sqlite-synchronous', process.env.SQLITE_SYNCHRONOUS || 'full');
      const pool = new Pool(url, { connections: 64, pipelining: 1 });
      const post = graphqlPost(pool);
      const token = await clientToken(post, CLIENT);
      const query = 'mutation($ids: [ID!]!) { predict(modelId: "active", itemIds: $ids) { id result score } }';
      const predictOne = (i: number) => post({ query, variables: { ids: [items[i % count]!.id] } }, token);
      for (let i = 0; i < 8; i++) await predictOne(i); // warm-up
      for (const concurrency of all ? flag('concurrency', '1,8,32').split(',').map(Number) : []) {
        c_[`c${concurrency}_batching_${batching}`] = await timed(
          seconds,
          async (i) => {
            await predictOne(i);
            return 1;
          },
          concurrency,
        );
      }
      if (batching === 'on') {
        const metrics = async (): Promise<Series[]> => parseMetrics(await (await pool.request({ path: '/metrics', method: 'GET' })).body.text());
        const predictIds = (ids: string[], modelRef = 'active') =>
          post({ query: `mutation($ids: [ID!]!) { predict(modelId: "${modelRef}", itemIds: $ids) { id result score } }`, variables: { ids } }, token);
        const measure = async (ids: string[], concurrency: number, picturesPer: number, modelRef = 'active', modelId = model.id) => {
          const before = await metrics();
          const r = await loadTest(seconds, (i) => predictIds([ids[i % ids.length]!], modelRef), concurrency);
          const pictures = r.requests * picturesPer;
          return {
            picturesPerSecond: round(r.perSecond * picturesPer),
            ...(r.rejected ? { rejected: r.rejected } : {}),
            p50Ms: r.p50Ms,
            p99Ms: r.p99Ms,
            stages: stages(before, await metrics(), pictures, modelId),
          };
        };
        if (part('c1')) {
          // The c1 account: (b) and c1 take turns, so drift on the machine hits both alike.
          const rounds = Number(flag('c1-rounds', '3'));
          const workloads = [
            { label: `${size}px PNG`, ids: items.map((i) => i.id), files },
            ...camera.slice(0, 1).map((w) => ({ label: `${w.label} JPEG`, ids: w.items, files: w.files })),
          ];
          const account: Record<string, unknown> = {};
          for (const wl of workloads) {
            for (let i = 0; i < 4; i++) await predictIds([wl.ids[i % wl.ids.length]!]); // warm-up
            const perRound: { b: number; c1: number; ratio: number }[] = [];
            let bSum: LoopStages = { readMs: 0, decodeMs: 0, runMs: 0 };
            let bPictures = 0;
            let c1Latency = 0;
            let c1Requests = 0;
            // The load generator's own CPU (this process builds each request and reads each answer,
            // on the same cores as the server): (b) has none of it, a line PC on another machine
            // would not take it from the server.
            let clientCpuMs = 0;
            const before = await metrics();
            for (let r = 0; r < rounds; r++) {
              await settle();
              const b = await loopStaged(seconds, wl.files);
              bSum = { readMs: bSum.readMs + b.sum.readMs, decodeMs: bSum.decodeMs + b.sum.decodeMs, runMs: bSum.runMs + b.sum.runMs };
              bPictures += b.pictures;
              await settle();
              const cpu0 = process.cpuUsage();
              const c = await loadTest(seconds, (i) => predictIds([wl.ids[i % wl.ids.length]!]), 1);
              const cpu = process.cpuUsage(cpu0);
              clientCpuMs += (cpu.user + cpu.system) / 1000;
              c1Latency += c.meanMs * c.requests;
              c1Requests += c.requests;
              perRound.push({ b: b.perSecond, c1: c.perSecond, ratio: round(c.perSecond / b.perSecond) });
            }
            const st = stages(before, await metrics(), c1Requests, model.id);
            // The floor of any request on this server: an authenticated `{ __typename }` at c1.
            const floor = await loadTest(Math.min(seconds, 1), () => post({ query: '{ __typename }' }, token), 1);
            const bMean: LoopStages = { readMs: bSum.readMs / bPictures, decodeMs: bSum.decodeMs / bPictures, runMs: bSum.runMs / bPictures };
            const acc = c1Account(bMean, c1Latency / c1Requests, st);
            const bRate = round(perRound.reduce((n, x) => n + x.b, 0) / rounds);
            const cRate = round(perRound.reduce((n, x) => n + x.c1, 0) / rounds);
            account[wl.label] = {
              rounds: perRound,
              b_perSecond: bRate,
              c1_perSecond: cRate,
              ratio_c1_over_b: round(cRate / bRate),
              goal_c1_at_least_0_9_of_b: cRate >= 0.9 * bRate,
              clientCpuMsPerRequest: round(clientCpuMs / c1Requests),
              // c1 as a client on another machine would see it: the mean latency less this process's own CPU per request
              ratio_c1_over_b_clientElsewhere: round(1000 / (c1Latency / c1Requests - clientCpuMs / c1Requests) / bRate),
              account: acc,
              graphqlFloorMs: round(floor.meanMs),
              serverStages: st,
            };
            process.stderr.write(
              `\n${accountTable(wl.label, acc)}\n(b) ${bRate}/s, c1 ${cRate}/s, ratio ${round(cRate / bRate)}; the load generator's own CPU ${round(clientCpuMs / c1Requests)} ms a request; an authenticated { __typename } at c1: ${round(floor.meanMs)} ms\n`,
            );
          }
          out.c1_account = account;
        }
        for (const w of part('throughput') || part('steady') ? camera : []) {
          for (let i = 0; i < 2; i++) await predictIds([w.items[i]!]); // warm-up
          const row: Record<string, unknown> = { jpegKB: w.jpegKB, b_minimalPipeline: bCamera[w.label] };
          for (const concurrency of all ? flag('concurrency', '1,8,32').split(',').map(Number) : [])
            row[`c${concurrency}`] = await measure(w.items, concurrency, 1);
          if (all) row[`c8_items_of_${multi}`] = await measure(w.multiItems, 8, multi);
          if (w === camera[0] && part('steady')) {
            // Open loop: one request every 1/rate s whatever the answers do (a line's camera),
            // so queueing shows in the tail; the goal is p99 <= 2 x p50.
            const rate = Number(flag('rate', '10'));
            const n = Math.max(20, Math.round(rate * Number(flag('steady-seconds', String(seconds * 2)))));
            const lat: number[] = [];
            const spans: { at: number; ms: number }[] = [];
            const before = await metrics();
            child.send({ type: 'gc-reset' });
            const load0 = os.loadavg()[0]!;
            const t0 = performance.now();
            await Promise.all(
              Array.from({ length: n }, async (_, i) => {
                await new Promise((r) => setTimeout(r, Math.max(0, t0 + (i * 1000) / rate - performance.now())));
                const s0 = performance.now();
                await predictIds([w.items[i % w.items.length]!]);
                const ms = performance.now() - s0;
                lat.push(ms);
                spans.push({ at: performance.timeOrigin + s0, ms });
              }),
            );
            const server = await new Promise<{
              gcs: { at: number; ms: number; kind: number }[];
              loopDelayMs: Record<string, number>;
              heapMB: Record<string, number>;
            }>((resolve) => {
              child.once('message', (m) => resolve(m as never));
              child.send({ type: 'gc' });
            });
            const after = await metrics();
            lat.sort((a, b) => a - b);
            const p50 = percentile(lat, 50);
            const p99 = percentile(lat, 99);
            // The tail's evidence: which slow requests (> 2 x p50) had a GC pause of the server
            // inside them, and each stage's p99 from the server's histograms.
            const slow = spans.filter((x) => x.ms > 2 * p50);
            const gcIn = (x: { at: number; ms: number }) => server.gcs.filter((g) => g.at < x.at + x.ms && g.at + g.ms > x.at).reduce((t, g) => t + g.ms, 0);
            row[`steady_${rate}_per_s`] = {
              requests: n,
              seconds: round((performance.now() - t0) / 1000),
              loadAverage1m: [round(load0), round(os.loadavg()[0]!)],
              p50Ms: round(p50),
              p90Ms: round(percentile(lat, 90)),
              p99Ms: round(p99),
              maxMs: round(lat.at(-1)!),
              ratio_p99_over_p50: round(p99 / p50),
              goal_p99_at_most_2x_p50: p99 <= 2 * p50,
              tail: {
                slowRequests: slow.length,
                slowWithGcPauseOver5ms: slow.filter((x) => gcIn(x) > 5).length,
                gcPauseMsInSlowRequests: round(slow.reduce((t, x) => t + gcIn(x), 0)),
                // kind (perf_hooks constants): 1 minor (scavenge, young generation), 4 major (mark-compact), 8 incremental marking, 16 weak callbacks.
                gc: {
                  pauses: server.gcs.length,
                  totalMs: round(server.gcs.reduce((t, g) => t + g.ms, 0)),
                  maxMs: round(Math.max(0, ...server.gcs.map((g) => g.ms))),
                  over5ms: server.gcs.filter((g) => g.ms > 5).map((g) => ({ ms: round(g.ms), kind: g.kind })),
                  heapMB: server.heapMB,
                },
                serverLoopDelayMs: Object.fromEntries(Object.entries(server.loopDelayMs).map(([k, v]) => [k, round(v)])),
                stageP99Ms: stageTails(before, after, model.id),
                stageMeansMs: stages(before, after, n, model.id),
              },
            };
          }
          if (w === camera[0] && tiledModel && all) {
            await predictIds([w.items[0]!], tiledModel.id);
            row.tiled = {
              tiling,
              tilesPerPicture: tilesPer[w.label],
              b_minimalPipeline: bCamera[`${w.label}_tiled`],
              c1: await measure(w.items, 1, 1, tiledModel.id, tiledModel.id),
              c8: await measure(w.items, 8, 1, tiledModel.id, tiledModel.id),
              c32: await measure(w.items, 32, 1, tiledModel.id, tiledModel.id),
            };
          }
          const c32 = row.c32 as { picturesPerSecond: number; stages: { meanBatchSize: number | null } } | undefined;
          if (c32) row.ratio_c32_over_b = round(c32.picturesPerSecond / bCamera[w.label]!);
          if (c32) row.ratio_c32_over_decode_ceiling = round(c32.picturesPerSecond / decodeCeiling[w.label]!);
          cCamera[w.label] = row;
        }
      }
      await pool.close();
      child.send('stop');
      await new Promise((r) => child.once('exit', r));
    }
    Object.assign(out, c_);
    // (b) again: other work on the machine drifts; the ratio uses the mean of both runs.
    const bAfter = await timed(all ? seconds : 0.2, async (i) => {
      const bytes = await fs.promises.readFile(files[i % count]!);
      await run(await toTensor(bytes, spec), 1);
      return 1;
    });
    /** (a) at the batch size the server used (its mean at c32): pictures (or tiles) per second. */
    const rawAtBatch = async (meanBatchSize: number | null | undefined) => {
      const used = Math.max(1, Math.round(meanBatchSize ?? 1));
      const data = new Float32Array(used * tensorSize(spec));
      for (let k = 0; k < used; k++) data.set(tensors[k % count]!, k * tensorSize(spec));
      const perSecond = await timed(seconds, async () => {
        await run(data, used);
        return used;
      });
      return { used, perSecond };
    };
    // (a) at the batch size the server ran at concurrency 32 on camera pictures.
    for (const row of all ? (Object.values(cCamera) as any[]) : []) {
      const { used, perSecond: a } = await rawAtBatch(row.c32?.stages?.meanBatchSize);
      row.a_rawRun_atBatchUsed = { batch: used, imagesPerSecond: a };
      if (row.c32) row.ratio_c32_over_a = round(row.c32.picturesPerSecond / a);
      row.goal_c32_at_least_1_0_of_b_and_0_7_of_a = row.c32 ? row.ratio_c32_over_b >= 1 && row.ratio_c32_over_a >= 0.7 : null;
    }
    // The tiled model's (a): its tiles run at the batch size the server used at c32, in pictures/s.
    for (const row of all ? (Object.values(cCamera) as any[]) : []) {
      const t = row.tiled;
      if (!t?.c32) continue;
      const { used, perSecond: tilesPerSecond } = await rawAtBatch(t.c32.stages?.meanBatchSize);
      const a = round(tilesPerSecond / t.tilesPerPicture);
      t.a_rawRun_atBatchUsed = { batch: used, tilesPerSecond, picturesPerSecond: a };
      t.ratio_c1_over_b = round(t.c1.picturesPerSecond / t.b_minimalPipeline);
      t.ratio_c32_over_b = round(t.c32.picturesPerSecond / t.b_minimalPipeline);
      t.ratio_c32_over_a = round(t.c32.picturesPerSecond / a);
    }
    out.camera = cCamera;
    await session.release();
    out.b_minimalPipeline_runs = [out.b_minimalPipeline, bAfter];
    out.b_minimalPipeline = round(((out.b_minimalPipeline as number) + bAfter) / 2);
    const b = out.b_minimalPipeline as number;
    const a = out.a_rawRun as number;
    const e2e = c_.c32_batching_on ?? Number.NaN;
    out.ratio_c32_over_b = round(e2e / b);
    out.ratio_c32_over_a = round(e2e / a);
    out.goal_c32_at_least_0_8_of_b = e2e >= 0.8 * b;
    console.log(JSON.stringify(out, null, 2));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** V8's collector, exposed on first use (a function declaration: main() runs before this module's later consts exist). */
function collectGarbage() {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * Between the alternating windows of the c1 account: this process's garbage from the window
 * before (the (b) loop's decoded pictures) collected now, and its threads let go quiet, so that
 * neither is paid inside the next window (measured: without it, the load generator's process
 * used 1.9-2.8 ms of CPU per c1 request, which the server's requests then waited for).
 */
async function settle() {
  collectGarbage();
  await new Promise((r) => setTimeout(r, 250));
}

/** Images per second of `step` run back to back by `concurrency` loops for `seconds`. */
async function timed(seconds: number, step: (i: number) => Promise<number>, concurrency = 1): Promise<number> {
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  let images = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        // Not `images += await …`: that reads `images` before the await and loses other loops' counts.
        const done = await step(next++);
        images += done;
      }
    }),
  );
  return round(images / ((performance.now() - t0) / 1000));
}

/** The minimal loop (read, decode + resize, run) for `seconds`, each stage timed. */
async function loopStaged(seconds: number, files: readonly string[]) {
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const sum: LoopStages = { readMs: 0, decodeMs: 0, runMs: 0 };
  let pictures = 0;
  while (performance.now() < end) {
    const s0 = performance.now();
    const bytes = await fs.promises.readFile(files[pictures % files.length]!);
    const s1 = performance.now();
    const tensor = await toTensor(bytes, loopSpec!);
    const s2 = performance.now();
    await loopRun!(tensor, 1);
    const s3 = performance.now();
    sum.readMs += s1 - s0;
    sum.decodeMs += s2 - s1;
    sum.runMs += s3 - s2;
    pictures++;
  }
  return { sum, pictures, perSecond: round(pictures / ((performance.now() - t0) / 1000)) };
}
/** `step` back to back from `concurrency` loops for `seconds`: requests/s and latency percentiles. */
async function loadTest(seconds: number, step: (i: number) => Promise<unknown>, concurrency: number) {
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const latencies: number[] = [];
  let next = 0;
  // Requests the server turned away (admission queue full or past its deadline: UNAVAILABLE) are
  // counted, not fatal: with a slow model a closed loop of 32 asks for more than the queue allows.
  let rejected = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        try {
          await step(next++);
        } catch (e) {
          if (!String(e).includes('UNAVAILABLE')) throw e;
          rejected++;
          continue;
        }
        latencies.push(performance.now() - s);
      }
    }),
  );
  const meanMs = latencies.reduce((n, x) => n + x, 0) / latencies.length;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rejected,
    meanMs,
    perSecond: round(latencies.length / ((performance.now() - t0) / 1000)),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
  };
}

interface CameraWorkload {
  label: string;
  items: string[];
  multiItems: string[];
  files: string[];
  jpegKB: number;
}
