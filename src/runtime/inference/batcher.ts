export interface BatcherOptions {
  /** Most items in one run. */
  maxBatchSize: number;
  /** Longest an item waits for company before a partial batch runs. */
  maxQueueDelayMs: number;
  /** Runs in flight at once (more items queue meanwhile and form the next batch). */
  maxInflight: number;
  /** Off: every item runs on its own at once, concurrently (the benchmark's baseline). */
  enabled: boolean;
  /** Run at once, without the queue delay, when nothing is in flight. */
  eagerWhenIdle?: boolean;
}

interface Pending<I, O> {
  input: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
  at: number;
}

/**
 * A dynamic micro-batcher in the manner of Triton's: items queue; a batch runs when
 * `maxBatchSize` items wait, or when the oldest has waited `maxQueueDelayMs`, or (under load) as
 * soon as a run slot frees up, taking whatever queued meanwhile. `run` receives the inputs of a
 * batch and must answer one output per input, in order.
 */
export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private inflight = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  private readonly run: (inputs: I[]) => Promise<O[]>;
  private readonly options: BatcherOptions;
  private readonly onBatch: (size: number) => void;

  constructor(run: (inputs: I[]) => Promise<O[]>, options: BatcherOptions, onBatch: (size: number) => void = () => {}) {
    this.run = run;
    this.options = options;
    this.onBatch = onBatch;
  }

  submit(input: I): Promise<O> {
    if (this.closed) return Promise.reject(new Error('the model was unloaded'));
    return new Promise<O>((resolve, reject) => {
      const item = { input, resolve, reject, at: performance.now() };
      if (!this.options.enabled || this.options.maxBatchSize <= 1) {
        this.execute([item]);
        return;
      }
      this.queue.push(item);
      this.pump();
    });
  }

  /**
   * Several inputs at once (the tiles of one picture): queued together before the batcher looks
   * at the queue, so they form full batches rather than a lone first run and the rest.
   */
  submitMany(inputs: readonly I[]): Promise<O[]> {
    if (this.closed) return Promise.reject(new Error('the model was unloaded'));
    if (!this.options.enabled || this.options.maxBatchSize <= 1) return Promise.all(inputs.map((x) => this.submit(x)));
    const all = inputs.map(
      (input) =>
        new Promise<O>((resolve, reject) => {
          this.queue.push({ input, resolve, reject, at: performance.now() });
        }),
    );
    this.pump();
    return Promise.all(all);
  }

  /** Items waiting plus runs in flight: an idle batcher can be dropped. */
  get busy(): boolean {
    return this.queue.length > 0 || this.inflight > 0;
  }

  /** Rejects everything still queued; runs in flight finish. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const left = this.queue.splice(0);
    for (const p of left) p.reject(new Error('the model was unloaded'));
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inflight < this.options.maxInflight) {
      const waited = performance.now() - this.queue[0]!.at;
      // Waiting for company only pays while a run is in flight (more requests are then arriving);
      // an idle model runs at once, so a lone caller never pays the queue delay.
      const idle = this.inflight === 0 && this.options.eagerWhenIdle;
      if (!idle && this.queue.length < this.options.maxBatchSize && waited < this.options.maxQueueDelayMs) {
        if (!this.timer) {
          this.timer = setTimeout(
            () => {
              this.timer = null;
              this.pump();
            },
            Math.max(0, this.options.maxQueueDelayMs - waited),
          );
        }
        return;
      }
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      this.execute(this.queue.splice(0, this.options.maxBatchSize));
    }
  }

  private execute(batch: Pending<I, O>[]): void {
    this.inflight++;
    this.onBatch(batch.length);
    this.run(batch.map((p) => p.input))
      .then((outs) => {
        if (outs.length !== batch.length) throw new Error(`batch of ${batch.length} answered ${outs.length} outputs`);
        batch.forEach((p, i) => p.resolve(outs[i]!));
      })
      .catch((err) => batch.forEach((p) => p.reject(err)))
      .finally(() => {
        this.inflight--;
        if (!this.closed) this.pump();
      });
  }
}
