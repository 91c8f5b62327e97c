import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerData } from './worker-protocol.ts';
import type { Provider } from './sessions.ts';

type Request = ToWorker extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

/**
 * The main thread's handle on the inference worker: request/response by id. The worker starts on
 * first use; should it die, everything in flight fails, `onRestart` tells the owner its sessions
 * are gone, and the next request starts a fresh one.
 */
export class InferenceWorker {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly provider: Provider,
    private readonly onBatch: (size: number) => void,
    private readonly onRestart: (reason: string) => void,
  ) {}

  call(msg: Request, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    if (this.closed) return Promise.reject(new Error('the inference worker is closed'));
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Work in flight keeps the process alive; an idle worker does not.
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...msg, id } as ToWorker, transfer);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    this.failAll('the inference service is shutting down');
    if (w) await w.terminate();
  }

  private spawn(): Worker {
    const data: WorkerData = { provider: this.provider };
    const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), { workerData: data });
    this.worker = worker;
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'batch') return this.onBatch(m.size);
      if (m.type === 'ready') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.type === 'error') p.reject(Object.assign(new Error(m.message), { contract: m.contract === true }));
      else p.resolve(m);
    });
    const gone = (reason: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.failAll(`the inference worker stopped: ${reason}`);
      if (!this.closed) this.onRestart(reason);
    };
    worker.on('error', (err) => gone(err.message));
    worker.on('exit', (code) => gone(`exit code ${code}`));
    return worker;
  }

  private failAll(message: string) {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(new Error(message));
  }
}
