import { Worker } from 'node:worker_threads';

type WithId = { id: number };
type Reply = { type: string; id?: number; message?: string; contract?: boolean };

/**
 * Request/response by id with a worker thread. The thread starts on first use; should it die,
 * everything in flight fails, `onExit` is told, and the next request starts a fresh one. Work in
 * flight keeps the process alive; an idle thread does not.
 */
export class ThreadClient<Req extends WithId, Res extends Reply> {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, { resolve: (m: Res) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;
  /** Called when the last pending request settles (close() waits for it). */
  private idle: (() => void) | null = null;

  private readonly entry: URL;
  private readonly workerData: unknown;
  private readonly hooks: { onEvent?: (m: Res) => void; onExit?: (reason: string) => void };

  constructor(entry: URL, workerData: unknown, hooks: { onEvent?: (m: Res) => void; onExit?: (reason: string) => void } = {}) {
    this.entry = entry;
    this.workerData = workerData;
    this.hooks = hooks;
  }

  call(msg: Req extends unknown ? Omit<Req, 'id'> : never, transfer: ArrayBuffer[] = []): Promise<Res> {
    if (this.closed) return Promise.reject(new Error('the worker thread is closed'));
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...msg, id }, transfer);
    });
  }

  /**
   * Refuses new requests, lets those in flight finish (at most `graceMs`), then ends the thread.
   * Terminating a thread while onnxruntime or sharp is inside a native call aborts the whole
   * process (std::terminate from the native callback), e.g. a warm-up still calibrating at SIGTERM.
   */
  async close(graceMs = 5_000): Promise<void> {
    this.closed = true;
    if (this.worker && this.pending.size > 0) {
      await new Promise<void>((resolve) => {
        this.idle = resolve;
        setTimeout(resolve, graceMs).unref();
      });
    }
    const w = this.worker;
    this.worker = null;
    this.failAll('the worker thread is shutting down');
    // A thread stuck in native code (a model's endless run) never finishes terminating: bounded.
    if (w) await Promise.race([w.terminate(), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
  }

  /**
   * Gives the thread up without waiting for it (it is stuck in a native call that nothing
   * interrupts): everything in flight fails, `onExit` is told, the next request starts a fresh one.
   */
  abandon(reason: string): void {
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    this.failAll(`the worker thread stopped: ${reason}`);
    w.unref();
    void w.terminate().catch(() => {});
    if (!this.closed) this.hooks.onExit?.(reason);
  }

  private spawn(): Worker {
    const worker = new Worker(this.entry, { workerData: this.workerData });
    this.worker = worker;
    worker.unref();
    worker.on('message', (m: Res) => {
      if (m.id === undefined) return this.hooks.onEvent?.(m);
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) {
        worker.unref();
        this.idle?.();
      }
      if (m.type === 'error') p.reject(Object.assign(new Error(m.message ?? 'worker error'), { contract: m.contract === true }));
      else p.resolve(m);
    });
    const gone = (reason: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.failAll(`the worker thread stopped: ${reason}`);
      if (!this.closed) this.hooks.onExit?.(reason);
    };
    worker.on('error', (err) => gone(err.message));
    worker.on('exit', (code) => gone(`exit code ${code}`));
    return worker;
  }

  private failAll(message: string) {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.idle?.();
    for (const p of all) p.reject(new Error(message));
  }
}
