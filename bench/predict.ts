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
 *   npm run bench:predict -- [--algorithm pattern-matching] [--seconds 5] [--size 256]
 *                            [--input-size 128] [--provider cpu|cuda] [--images 48]
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
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

const CLIENT = { id: 'bench', secret: 'bench-secret-0123456789abcdef' };
const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};

if (args.includes('--serve')) await serve();
else await main();

/** Child process: the real server on the prepared data dir, until told to stop. */
async function serve() {
  const { createServer } = await import('../src/server.ts');
  const { createLogger } = await import('../src/logging.ts');
  const server = await createServer(loadConfig(process.env), { log: createLogger('warn') });
  const { url } = await server.start();
  process.send!({ url, provider: server.services.inference.provider });
  process.on('message', async () => {
    await server.stop();
    process.exit(0);
  });
}

async function main() {
  const seconds = Number(flag('seconds', '5'));
  const size = Number(flag('size', '256'));
  const inputSize = flag('input-size', '128');
  const provider = flag('provider', 'cpu') as 'cpu' | 'cuda';
  const count = Number(flag('images', '48'));
  const maxBatch = Number(flag('max-batch', String(loadConfig({}).maxBatchSize)));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-bench-predict-'));
  const log = { info() {}, warn() {}, error() {}, debug() {} };
  const out: Record<string, unknown> = { provider, seconds, imageSize: size, images: count, cpus: os.cpus().length };

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
      [model] = await store.modelsByIds([queued.id]) as [ModelRecord];
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
    const onnx = await store.blobs.get(model.onnxBlob!);
    await pubsub.close();
    await store.close();

    // ---- (a) raw session.run, (b) minimal pipeline: in this process, nothing else running
    const session = await ort.InferenceSession.create(onnx, sessionOptions(provider));
    const c = spec.color === 'rgb' ? 3 : 1;
    const tensors = await Promise.all(pics.map((p) => toTensor(p, spec)));
    const run = (data: Float32Array, n: number) => session.run({ images: new ort.Tensor('float32', data, [n, c, spec.height, spec.width]) });
    await run(tensors[0]!, 1);
    out.a_rawRun = await timed(seconds, async (i) => {
      await run(tensors[i % count]!, 1);
      return 1;
    });
    const batch = new Float32Array(maxBatch * tensorSize(spec));
    for (let k = 0; k < maxBatch; k++) batch.set(tensors[k % count]!, k * tensorSize(spec));
    out[`a_rawRunBatch${maxBatch}`] = await timed(seconds, async () => {
      await run(batch, maxBatch);
      return maxBatch;
    });
    out.b_minimalPipeline = await timed(seconds, async (i) => {
      const bytes = await fs.promises.readFile(files[i % count]!);
      await run(await toTensor(bytes, spec), 1);
      return 1;
    });

    // ---- (c) end-to-end over HTTP, batching on and off
    const c_: Record<string, number> = {};
    const batchings = flag('batching', 'on,off').split(',') as ('on' | 'off')[];
    for (const batching of batchings) {
      const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
        execArgv: [],
        env: {
          ...process.env,
          DATA_DIR: dataDir,
          PORT: '0',
          HOST: '127.0.0.1',
          EXECUTION_PROVIDER: provider,
          BATCHING: batching,
          MAX_BATCH_SIZE: String(maxBatch),
          SPECTRO_CLIENT_ID: CLIENT.id,
          SPECTRO_CLIENT_SECRET: CLIENT.secret,
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const { url, provider: used } = await new Promise<{ url: string; provider: string }>((resolve, reject) => {
        child.once('message', (m) => resolve(m as { url: string; provider: string }));
        child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
      });
      out.serverProvider = used;
      const pool = new Pool(url, { connections: 64, pipelining: 1 });
      const post = async (body: unknown, token?: string) => {
        const res = await pool.request({
          path: '/graphql',
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body),
        });
        const json = (await res.body.json()) as { data?: any; errors?: unknown[] };
        if (json.errors) throw new Error(JSON.stringify(json.errors));
        return json.data;
      };
      const token = (
        await post({ query: `mutation { token(clientId: "${CLIENT.id}", clientSecret: "${CLIENT.secret}") { accessToken } }` })
      ).token.accessToken as string;
      const query = 'mutation($ids: [ID!]!) { predict(modelId: "active", itemIds: $ids) { id result score } }';
      const predictOne = (i: number) => post({ query, variables: { ids: [items[i % count]!.id] } }, token);
      for (let i = 0; i < 8; i++) await predictOne(i); // warm-up
      for (const concurrency of flag('concurrency', '1,8,32').split(',').map(Number)) {
        c_[`c${concurrency}_batching_${batching}`] = await timed(seconds, async (i) => {
          await predictOne(i);
          return 1;
        }, concurrency);
      }
      await pool.close();
      child.send('stop');
      await new Promise((r) => child.once('exit', r));
    }
    Object.assign(out, c_);
    // (b) again: other work on the machine drifts; the ratio uses the mean of both runs.
    const bAfter = await timed(seconds, async (i) => {
      const bytes = await fs.promises.readFile(files[i % count]!);
      await run(await toTensor(bytes, spec), 1);
      return 1;
    });
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

function round(x: number) {
  return Math.round(x * 100) / 100;
}
