import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { decodeToTensor, tensorSize } from '../images/tensor.ts';
import { MicroBatcher } from './batcher.ts';
import { OnnxIO, type InputSpec } from './contract.ts';
import { checkContract, createSession, type ModelShape } from './sessions.ts';
import type { FromWorker, ToWorker, WorkerData, WorkerOutput } from './worker-protocol.ts';

/**
 * The inference worker thread. onnxruntime-node's `session.run` computes on the calling thread,
 * and sharp's pipeline set-up costs about a millisecond of it too, so both live here: the main
 * thread keeps serving HTTP, GraphQL and the store while pictures are decoded and models run.
 */

type ModelOutput = Omit<WorkerOutput, 'width' | 'height'>;

interface Loaded {
  spec: InputSpec;
  session: ort.InferenceSession;
  shape: ModelShape;
  batcher: MicroBatcher<Float32Array, ModelOutput>;
}

const port = parentPort!;
const { provider } = workerData as WorkerData;
const models = new Map<string, Loaded>();
const post = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

async function runBatch(l: Loaded, inputs: Float32Array[], record: boolean): Promise<ModelOutput[]> {
  const { spec } = l;
  const per = tensorSize(spec);
  const n = inputs.length;
  let data: Float32Array;
  if (n === 1) data = inputs[0]!;
  else {
    data = new Float32Array(n * per);
    inputs.forEach((x, i) => data.set(x, i * per));
  }
  const c = spec.color === 'rgb' ? 3 : 1;
  if (record) post({ type: 'batch', size: n });
  const result = await l.session.run({ [OnnxIO.input]: new ort.Tensor('float32', data, [n, c, spec.height, spec.width]) });
  const map = result[OnnxIO.anomalyMap]!;
  const score = result[OnnxIO.score]!;
  const [bn, mc, h, w] = map.dims.map(Number) as [number, number, number, number];
  const maps = map.data as Float32Array;
  const scores = score.data as Float32Array;
  if (bn !== n || scores.length !== n) throw new Error(`model answered ${bn} maps and ${scores.length} scores for a batch of ${n}`);
  const plane = h * w;
  // Channel 0 of each image's map; copies, so the (transferable) buffers are per image.
  return inputs.map((_, i) => ({
    map: maps.slice(i * plane * mc, i * plane * mc + plane),
    mapWidth: w,
    mapHeight: h,
    score: scores[i]!,
  }));
}

async function load(msg: Extract<ToWorker, { type: 'load' }>): Promise<ModelShape> {
  const existing = models.get(msg.modelId);
  if (existing) return existing.shape;
  const session = await createSession(msg.onnxPath, provider);
  let shape: ModelShape;
  try {
    shape = checkContract(session, msg.spec);
  } catch (err) {
    await session.release();
    throw Object.assign(err as Error, { contract: true });
  }
  const loaded: Loaded = { spec: msg.spec, session, shape, batcher: undefined! };
  const fixed = shape.fixedBatch;
  loaded.batcher = new MicroBatcher((inputs) => runBatch(loaded, inputs, true), {
    maxBatchSize: Math.max(1, fixed ?? msg.batching.maxBatchSize),
    maxQueueDelayMs: msg.batching.maxQueueDelayMs,
    maxInflight: 1,
    enabled: msg.batching.enabled && fixed === null,
  });
  models.set(msg.modelId, loaded);
  return shape;
}

async function unload(modelId: string): Promise<void> {
  const l = models.get(modelId);
  if (!l) return;
  models.delete(modelId);
  l.batcher.close();
  while (l.batcher.busy) await new Promise((r) => setTimeout(r, 5));
  await l.session.release().catch(() => {});
}

function model(modelId: string): Loaded {
  const l = models.get(modelId);
  if (!l) throw new Error(`model "${modelId}" is not loaded in the inference worker`);
  return l;
}

port.on('message', (msg: ToWorker) => {
  const reply = async () => {
    switch (msg.type) {
      case 'load':
        return post({ type: 'loaded', id: msg.id, shape: await load(msg) });
      case 'unload':
        await unload(msg.modelId);
        return post({ type: 'done', id: msg.id });
      case 'infer': {
        const l = model(msg.modelId);
        const decoded = await decodeToTensor(msg.path, l.spec, undefined, 0, msg.knownSize ?? undefined);
        const out = await l.batcher.submit(decoded.data);
        const output = { ...out, width: decoded.width, height: decoded.height };
        return post({ type: 'output', id: msg.id, output }, [output.map.buffer as ArrayBuffer]);
      }
      case 'run': {
        const l = model(msg.modelId);
        const [out] = await runBatch(l, [msg.tensor], msg.record);
        const output = { ...out!, width: l.spec.width, height: l.spec.height };
        return post({ type: 'output', id: msg.id, output }, [output.map.buffer as ArrayBuffer]);
      }
    }
  };
  reply().catch((err: Error & { contract?: boolean }) =>
    post({ type: 'error', id: msg.id, message: err?.message ?? String(err), contract: err?.contract === true }),
  );
});

post({ type: 'ready', provider });
