import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { OnnxIO, type InputSpec } from '../onnx/contract.ts';
import { checkContract, createSession } from '../onnx/session.ts';
import type { FromSession, ToSession, WorkerData } from './worker-protocol.ts';

/** The session worker: owns the onnxruntime sessions and runs batches, one at a time. */

const port = parentPort!;
const { provider } = workerData as WorkerData;
const sessions = new Map<string, { session: ort.InferenceSession; spec: InputSpec; highWater: number }>();
const post = (msg: FromSession, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

async function handle(msg: ToSession): Promise<void> {
  switch (msg.type) {
    case 'ping':
      return post({ type: 'done', id: msg.id });
    case 'load': {
      const existing = sessions.get(msg.modelId);
      if (existing) return post({ type: 'loaded', id: msg.id, shape: checkContract(existing.session, msg.spec) });
      const session = await createSession(msg.onnxPath, provider);
      try {
        const shape = checkContract(session, msg.spec);
        sessions.set(msg.modelId, { session, spec: msg.spec, highWater: 1 });
        return post({ type: 'loaded', id: msg.id, shape });
      } catch (err) {
        await session.release();
        throw Object.assign(err as Error, { contract: true });
      }
    }
    case 'unload': {
      const s = sessions.get(msg.modelId);
      sessions.delete(msg.modelId);
      // Runs are handled one message at a time, so none is using the session now.
      await s?.session.release().catch(() => {});
      return post({ type: 'done', id: msg.id });
    }
    case 'run': {
      const s = sessions.get(msg.modelId);
      if (!s) throw new Error(`model "${msg.modelId}" is not loaded in the session worker`);
      const { spec } = s;
      const c = spec.color === 'rgb' ? 3 : 1;
      // On CUDA a run whose input shape differs from the previous run's costs ~100 ms (measured on
      // an H200: batches alternating 2/8 took 125 ms each, repeated 16s took 2 ms), while a batch of
      // 16 costs the GPU no more than a batch of 1. So batches are padded to the largest size this
      // model has run (calibration ends on the cap), keeping one shape. On CPU padding would only
      // burn cycles on zeros.
      const runN = provider === 'cuda' ? Math.max(msg.n, s.highWater) : msg.n;
      s.highWater = runN;
      let data = msg.data;
      if (runN !== msg.n) {
        data = new Float32Array(runN * (msg.data.length / msg.n));
        data.set(msg.data);
      }
      const t0 = performance.now();
      const result = await s.session.run({
        [OnnxIO.input]: new ort.Tensor('float32', data, [runN, c, spec.height, spec.width]),
      });
      const map = result[OnnxIO.anomalyMap]!;
      const score = result[OnnxIO.score]!;
      const [bn, mc, h, w] = map.dims.map(Number) as [number, number, number, number];
      const all = map.data as Float32Array;
      const scores = Float32Array.from((score.data as Float32Array).subarray(0, msg.n));
      if (bn !== runN || (score.data as Float32Array).length !== runN) {
        throw new Error(`model answered ${bn} maps and ${(score.data as Float32Array).length} scores for a batch of ${runN}`);
      }
      const plane = h * w;
      const maps = new Float32Array(msg.n * plane);
      for (let i = 0; i < msg.n; i++) maps.set(all.subarray(i * mc * plane, i * mc * plane + plane), i * plane);
      const runMs = performance.now() - t0;
      return post({ type: 'ran', id: msg.id, maps, scores, mapWidth: w, mapHeight: h, runMs }, [maps.buffer, scores.buffer]);
    }
  }
}

// One message at a time: a run never overlaps another run or an unload.
let chain: Promise<void> = Promise.resolve();
port.on('message', (msg: ToSession) => {
  chain = chain.then(() =>
    handle(msg).catch((err: Error & { contract?: boolean }) =>
      post({ type: 'error', id: msg.id, message: err?.message ?? String(err), contract: err?.contract === true }),
    ),
  );
});
