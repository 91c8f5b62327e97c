import { Worker } from 'node:worker_threads';
import { type ClientHooks, PendingCalls, type Reply, type WithId } from './pending-calls.ts';

/**
 * Request/response by id with a worker thread. The thread starts on first use; should it die,
 * everything in flight fails, `onExit` is told, and the next request starts a fresh one. Work in
 * flight keeps the process alive; an idle thread does not.
 */
export class ThreadClient<Req extends WithId, Res extends Reply> {
  private worker: Worker | null = null;
  private readonly calls = new PendingCalls<Res>();
  private closed = false;

  private readonly entry: URL;
  private readonly workerData: unknown;
  private readonly hooks: ClientHooks<Res>;

  constructor(entry: URL, workerData: unknown, hooks: ClientHooks<Res> = {}) {
    this.entry = entry;
    this.workerData = workerData;
    this.hooks = hooks;
  }

  call(msg: Req extends unknown ? Omit<Req, 'id'> : never, transfer: ArrayBuffer[] = []): Promise<Res> {
    if (this.closed) return Promise.reject(new Error('the worker thread is closed'));
    const worker = this.worker ?? this.spawn();
    if (this.calls.size === 0) worker.ref();
    const { id, reply } = this.calls.add();
    worker.postMessage({ ...msg, id }, transfer);
    return reply;
  }

  /**
   * Refuses new requests, lets those in flight finish (at most `graceMs`), then ends the thread.
   * Terminating a thread while onnxruntime or sharp is inside a native call aborts the whole
   * process (std::terminate from the native callback), e.g. a warm-up still calibrating at SIGTERM.
   */
  async close(graceMs = 5_000): Promise<void> {
    this.closed = true;
    if (this.worker) await this.calls.drained(graceMs);
    const w = this.worker;
    this.worker = null;
    this.calls.failAll('the worker thread is shutting down');
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
    this.calls.failAll(`the worker thread stopped: ${reason}`);
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
      if (this.calls.settle(m) && this.calls.size === 0) worker.unref();
    });
    const gone = (reason: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.calls.failAll(`the worker thread stopped: ${reason}`);
      if (!this.closed) this.hooks.onExit?.(reason);
    };
    worker.on('error', (err) => gone(err.message));
    worker.on('exit', (code) => gone(`exit code ${code}`));
    return worker;
  }
}
