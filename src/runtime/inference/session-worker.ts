import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { OnnxIO, type InputSpec } from './contract.ts';
import { checkContract, createSession } from './sessions.ts';
import type { FromSession, ToSession, WorkerData } from './worker-protocol.ts';

/** The session worker: owns the onnxruntime sessions and runs batches, one at a time. */

const port = parentPort!;
const { provider } = workerData as WorkerData;
const sessions = new Map<string, { session: ort.InferenceSession; spec: InputSpec }>();
const post = (msg: FromSession, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

async function handle(msg: ToSession): Promise<void> {
  switch (msg.type) {
    case 'load': {
      const existing = sessions.get(msg.modelId);
      if (existing) return post({ type: 'loaded', id: msg.id, shape: checkContract(existing.session, msg.spec) });
      const session = await createSession(msg.onnxPath, provider);
      try {
        const shape = checkContract(session, msg.spec);
        sessions.set(msg.modelId, { session, spec: msg.spec });
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
      // On CUDA every new input shape costs a cuDNN algorithm search (hundreds of ms), so batches
      // are padded to a power of two: a handful of shapes, all met during calibration/warm-up.
      // On CPU padding would only burn cycles on zeros.
      const runN = provider === 'cuda' ? 2 ** Math.ceil(Math.log2(msg.n)) : msg.n;
      let data = msg.data;
      if (runN !== msg.n) {
        data = new Float32Array(runN * (msg.data.length / msg.n));
        data.set(msg.data);
      }
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
      return post({ type: 'ran', id: msg.id, maps, scores, mapWidth: w, mapHeight: h }, [maps.buffer, scores.buffer]);
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
