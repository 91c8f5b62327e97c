import { parentPort, workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { tensorSize } from '../images/tensor.ts';
import { stitchTiles } from '../images/tiles.ts';
import { epochMs } from '../telemetry/clock.ts';
import { MicroBatcher } from './batcher.ts';
import type { InputSpec } from '../onnx/contract.ts';
import type { ModelShape } from './sessions.ts';
import { decodePicture, type DecodedPicture, type DecodeTask } from './decode-task.ts';
import { withDeadline } from './deadline.ts';
import { SocketClient } from './socket-client.ts';
import { ThreadClient } from './thread-client.ts';
import type { BatchTiming, FromSession, FromWorker, ToSession, ToWorker, WorkerData, WorkerOutput } from './worker-protocol.ts';

/**
 * The pipeline worker: has pictures decoded by its pool of decode threads (sharp's pipeline
 * set-up costs about a millisecond of the calling thread and the float conversion more, so not on
 * the main one, and on as many cores as there are) and micro-batches them per model; the batches
 * run in the session worker, so decoding goes on while a batch runs.
 */

type ModelOutput = Omit<WorkerOutput, 'width' | 'height'> & { batch: BatchTiming };

interface Loaded {
  spec: InputSpec;
  shape: ModelShape & { batchCap: number };
  batcher: MicroBatcher<Float32Array, ModelOutput>;
}

const port = parentPort!;
const models = new Map<string, Loaded>();
const trace = process.env.SPECTRO_TRACE_BATCHES === '1';
const post = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
const { decodeThreads, decodeInline = false } = workerData as WorkerData;
const decoders = new Piscina<DecodeTask, DecodedPicture>({
  filename: new URL('./decode-task.ts', import.meta.url).href,
  minThreads: decodeThreads,
  maxThreads: decodeThreads,
  // A thread starts the next picture's sharp pipeline while libvips works on the last one.
  concurrentTasksPerWorker: 2,
  idleTimeout: 60_000,
});
/** Pictures in the decode pool now, and decoding on this thread now. */
let pooled = 0;
let inline = 0;

/**
 * A picture into the model's input. A lone whole picture (nothing else decoding, no tiles) is
 * decoded here: the pool would only add two thread hops (and two wake-ups of a thread that may
 * have to wait for a core) to the latency of one request at a time, while the pool has nothing
 * to overlap it with. Anything more goes to the pool, which spreads it over the cores. Both call
 * the same decodePicture: the tensor is the same either way.
 */
async function decode(task: DecodeTask): Promise<DecodedPicture & { on: 'inline' | 'pool' }> {
  if (decodeInline && pooled === 0 && inline === 0 && !task.spec.tiling) {
    inline++;
    try {
      return { ...(await decodePicture(task)), on: 'inline' };
    } finally {
      inline--;
    }
  }
  pooled++;
  try {
    return { ...(await decoders.run(task)), on: 'pool' };
  } finally {
    pooled--;
  }
}

const sessionHooks = {
  onExit: (reason: string) => {
    // Its sessions are gone: everything loaded must be loaded again.
    for (const [id, l] of models) {
      l.batcher.close();
      models.delete(id);
    }
    console.error(`inference session worker stopped (${reason})`);
  },
};
// A session thread of this gateway's own, or the machine's shared inference process (INFERENCE_SOCKET).
const { inferenceSocket } = workerData as WorkerData;
const sessions = inferenceSocket
  ? new SocketClient<ToSession, FromSession>(inferenceSocket, sessionHooks)
  : new ThreadClient<ToSession, FromSession>(new URL('./session-worker.ts', import.meta.url), workerData as WorkerData, sessionHooks);

// With a shared inference process, that process keeps the deadline of each run from when the run
// starts (and gives up its thread); here the wait also holds the queue there: twice as long, so
// that a healthy model queued behind a hung one is not taken for hung itself.
const runTimeoutMs = ((workerData as WorkerData).runTimeoutMs ?? 0) * (inferenceSocket ? 2 : 1);
/** Models whose run passed its deadline: refused until the gateway restarts (or the model is replaced). */
const hung = new Map<string, string>();

/**
 * One session.run with a deadline. onnxruntime's run is native code nothing interrupts, so a run
 * past its deadline (a model that loops on real pictures) costs its thread: the session worker
 * is given up, a fresh one serves the other models, and this model is refused from then on.
 */
async function runSession(modelId: string, data: Float32Array, n: number): Promise<Extract<FromSession, { type: 'ran' }>> {
  const refused = hung.get(modelId);
  if (refused) throw new Error(refused);
  const call = sessions.call({ type: 'run', modelId, data, n }, [data.buffer as ArrayBuffer]);
  const r = await withDeadline(call, runTimeoutMs, () => {
    const message = `model "${modelId}" ran past its deadline of ${runTimeoutMs} ms (INFERENCE_RUN_TIMEOUT_MS); it is refused until it is replaced or the gateway restarts`;
    hung.set(modelId, message);
    post({ type: 'stuck', modelId, deadlineMs: runTimeoutMs });
    sessions.abandon(`a run of model "${modelId}" passed its deadline`);
    return new Error(message);
  });
  if (r.type !== 'ran') throw new Error(`session worker answered ${r.type}`);
  return r;
}

async function runBatch(modelId: string, l: Loaded, inputs: Float32Array[], record: boolean): Promise<ModelOutput[]> {
  const per = tensorSize(l.spec);
  const n = inputs.length;
  // A lone picture whose tensor is its whole buffer (as the decode pool hands it over) goes to
  // the session worker as is; a batch is gathered into one buffer.
  const lone = n === 1 && inputs[0]!.byteOffset === 0 && inputs[0]!.buffer.byteLength === per * 4;
  const data = lone ? inputs[0]! : new Float32Array(n * per);
  if (!lone) inputs.forEach((x, i) => data.set(x, i * per));
  const startedAt = epochMs();
  let runMs: number | null = null;
  try {
    const r = await runSession(modelId, data, n);
    runMs = r.runMs ?? null;
    const batch: BatchTiming = { size: n, startedAt, endedAt: epochMs(), runMs };
    // Where a batch's time goes (SPECTRO_TRACE_BATCHES=1): the run itself vs the thread hops.
    if (trace) process.stderr.write(`batch n=${n} run=${r.runMs?.toFixed(2)}ms roundtrip=${(batch.endedAt - startedAt).toFixed(2)}ms\n`);
    const plane = r.mapWidth * r.mapHeight;
    return inputs.map((_, i) => ({
      map: r.maps.slice(i * plane, (i + 1) * plane),
      mapWidth: r.mapWidth,
      mapHeight: r.mapHeight,
      score: r.scores[i]!,
      batch,
    }));
  } finally {
    if (record) post({ type: 'batch', modelId, size: n, runMs });
  }
}

async function load(msg: Extract<ToWorker, { type: 'load' }>): Promise<ModelShape & { batchCap: number }> {
  const refused = hung.get(msg.modelId);
  if (refused) throw new Error(refused);
  const existing = models.get(msg.modelId);
  if (existing) return existing.shape;
  const r = await sessions.call({ type: 'load', modelId: msg.modelId, onnxPath: msg.onnxPath, spec: msg.spec });
  if (r.type !== 'loaded') throw new Error(`session worker answered ${r.type}`);
  const fixed = r.shape.fixedBatch;
  const enabled = msg.batching.enabled && fixed === null;
  const cap = enabled && msg.batching.calibrate ? await calibrate(msg.modelId, msg.spec, msg.batching.maxBatchSize) : msg.batching.maxBatchSize;
  const shape = { ...r.shape, batchCap: enabled ? cap : (fixed ?? 1) };
  const loaded: Loaded = { spec: msg.spec, shape, batcher: undefined! };
  loaded.batcher = new MicroBatcher((inputs) => runBatch(msg.modelId, loaded, inputs, true), {
    maxBatchSize: Math.max(1, fixed ?? cap),
    maxQueueDelayMs: msg.batching.maxQueueDelayMs,
    maxInflight: 1,
    enabled,
    eagerWhenIdle: true,
  });
  models.set(msg.modelId, loaded);
  return shape;
}

/**
 * The largest batch worth forming. On a GPU bigger batches keep paying off; on a CPU a large
 * batch often runs slower per picture than a small one (caches), so the model is timed at
 * batch 1, 2, 4, … up to `max` and the smallest size within 10 % of the best rate is kept.
 */
async function calibrate(modelId: string, spec: InputSpec, max: number): Promise<number> {
  const per = tensorSize(spec);
  const time = async (n: number) => {
    let best = Infinity;
    for (let k = 0; k < 3; k++) {
      const data = new Float32Array(n * per);
      const t0 = performance.now();
      await runSession(modelId, data, n);
      best = Math.min(best, performance.now() - t0);
    }
    return n / best;
  };
  const rates: [number, number][] = [];
  for (let n = 1; n <= max; n *= 2) rates.push([n, await time(n)]);
  if (rates.at(-1)![0] !== max) rates.push([max, await time(max)]);
  const top = Math.max(...rates.map(([, r]) => r));
  return rates.find(([, r]) => r >= 0.9 * top)![0];
}

/** A picture cut into tiles (InputSpec.tiling): all tiles through the batcher, maps stitched. */
async function inferTiled(
  id: number,
  l: Loaded,
  pic: DecodedPicture,
  at: { receivedAt: number; decodedAt: number; decodedOn: 'inline' | 'pool' },
): Promise<[FromWorker, ArrayBuffer[]]> {
  const per = tensorSize(l.spec);
  const tiles = pic.tiles!;
  const outs = await l.batcher.submitMany(tiles.map((_, i) => pic.data.subarray(i * per, (i + 1) * per)));
  const stitched = stitchTiles(outs, tiles, l.spec, l.spec.tiling?.merge ?? 'max');
  const runs = [...new Set(outs.map((o) => o.batch))];
  const runMs = runs.reduce<number | null>((sum, b) => (b.runMs === null || sum === null ? null : sum + b.runMs), 0);
  const batch: BatchTiming = { size: outs.length, startedAt: runs[0]!.startedAt, endedAt: Math.max(...runs.map((b) => b.endedAt)), runMs };
  const output = { ...stitched, width: pic.width, height: pic.height };
  return [{ type: 'output', id, output, timing: { ...at, batch } }, [output.map.buffer as ArrayBuffer]];
}

async function unload(modelId: string): Promise<void> {
  const l = models.get(modelId);
  if (!l) return;
  models.delete(modelId);
  l.batcher.close();
  while (l.batcher.busy) await new Promise((r) => setTimeout(r, 5));
  await sessions.call({ type: 'unload', modelId });
}

function model(modelId: string): Loaded {
  const l = models.get(modelId);
  if (!l) throw new Error(`model "${modelId}" is not loaded in the inference worker`);
  return l;
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'load':
      return post({ type: 'loaded', id: msg.id, shape: await load(msg) });
    case 'unload':
      await unload(msg.modelId);
      return post({ type: 'done', id: msg.id });
    case 'infer': {
      const receivedAt = epochMs();
      const l = model(msg.modelId);
      const decoded = await decode({ path: msg.path, spec: l.spec, knownSize: msg.knownSize });
      const decodedAt = epochMs();
      if (decoded.tiles) return post(...(await inferTiled(msg.id, l, decoded, { receivedAt, decodedAt, decodedOn: decoded.on })));
      const { batch, ...out } = await l.batcher.submit(decoded.data);
      const output = { ...out, width: decoded.width, height: decoded.height };
      return post({ type: 'output', id: msg.id, output, timing: { receivedAt, decodedAt, decodedOn: decoded.on, batch } }, [output.map.buffer as ArrayBuffer]);
    }
    case 'ping': {
      const r = await sessions.call({ type: 'ping' });
      if (r.type !== 'done') throw new Error(`session worker answered ${r.type}`);
      return post({ type: 'done', id: msg.id });
    }
    case 'run': {
      const l = model(msg.modelId);
      const [{ batch: _batch, ...out }] = (await runBatch(msg.modelId, l, [msg.tensor], msg.record)) as [ModelOutput];
      const output = { ...out, width: l.spec.width, height: l.spec.height };
      return post({ type: 'output', id: msg.id, output }, [output.map.buffer as ArrayBuffer]);
    }
  }
}

port.on('message', (msg: ToWorker) => {
  handle(msg).catch((err: Error & { contract?: boolean }) =>
    post({ type: 'error', id: msg.id, message: err?.message ?? String(err), contract: err?.contract === true }),
  );
});
