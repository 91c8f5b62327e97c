import { parentPort, workerData } from 'node:worker_threads';
import { SessionHost } from './session-host.ts';
import type { FromSession, ToSession, WorkerData } from './worker-protocol.ts';

/** The session worker: owns the onnxruntime sessions and runs batches, one at a time. */

const port = parentPort!;
const host = new SessionHost((workerData as WorkerData).provider);
const post = (msg: FromSession, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

async function handle(msg: ToSession): Promise<void> {
  switch (msg.type) {
    case 'ping':
      return post({ type: 'done', id: msg.id });
    case 'load':
      return post({ type: 'loaded', id: msg.id, shape: await host.load(msg.modelId, msg.onnxPath, msg.spec) });
    case 'unload':
      // Runs are handled one message at a time, so none is using the session now.
      await host.unload(msg.modelId);
      return post({ type: 'done', id: msg.id });
    case 'run': {
      const out = await host.run(msg.modelId, msg.data, msg.n);
      return post({ type: 'ran', id: msg.id, ...out }, [out.maps.buffer as ArrayBuffer, out.scores.buffer as ArrayBuffer]);
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
