import {
  backoffMs,
  type EnqueueOptions,
  type Job,
  type JobQueue,
  type JobRunner,
  type JobState,
  type Processor,
  type QueueOptions,
  type StopReason,
} from './jobs.ts';

/** Finished jobs whose state and result stay readable (`state`, `result`). */
const KEEP_FINISHED = 1000;

interface Entry<D> {
  id: string;
  data: D;
  opts: EnqueueOptions;
  attempt: number;
  state: 'queued' | 'delayed' | 'running';
  controller: AbortController;
  timer: NodeJS.Timeout | null;
}

interface Finished<R> {
  state: 'completed' | 'failed';
  result?: R;
  error?: Error;
}

type Logger = (err: unknown, queue: string, id: string) => void;

/**
 * Jobs in this process: each queue has `concurrency` slots and a line for the rest, delayed jobs
 * and retries wait on timers. A queued job is cancelled by leaving the line (it never runs), a
 * running one through its AbortSignal. Nothing survives a restart: work that must resume is
 * recorded in the store by its owner (training puts its models back to QUEUED).
 */
export function createLocalJobs(opts: { onError?: Logger } = {}): JobRunner {
  const queues: LocalQueue<unknown, unknown>[] = [];
  return {
    shared: false,
    queue<D, R = void>(name: string, processor: Processor<D, R> | null, qopts: QueueOptions<D>): JobQueue<D, R> {
      // In one process a queue without a processor would never run anything: refuse the mistake.
      if (!processor) throw new Error(`the in-process job queue "${name}" needs a processor (ROLE=api needs REDIS_URL)`);
      const q = new LocalQueue<D, R>(name, processor, qopts, opts.onError);
      queues.push(q as unknown as LocalQueue<unknown, unknown>);
      return q;
    },
    async close() {
      await Promise.all(queues.map((q) => q.close()));
    },
  };
}

class LocalQueue<D, R> implements JobQueue<D, R> {
  readonly name: string;
  private readonly processor: Processor<D, R>;
  private readonly opts: QueueOptions<D>;
  private readonly onError?: Logger;
  private readonly entries = new Map<string, Entry<D>>();
  private readonly line: Entry<D>[] = [];
  private readonly finished = new Map<string, Finished<R>>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly schedules = new Map<string, NodeJS.Timeout>();
  private readonly runs = new Set<Promise<void>>();
  private active = 0;
  private closed = false;

  constructor(name: string, processor: Processor<D, R>, opts: QueueOptions<D>, onError?: Logger) {
    this.name = name;
    this.processor = processor;
    this.opts = opts;
    this.onError = onError;
  }

  private get slots() {
    return Math.max(1, this.opts.concurrency);
  }

  async enqueue(id: string, data: D, opts: EnqueueOptions = {}): Promise<boolean> {
    if (this.closed) throw new Error(`the job queue "${this.name}" is closed`);
    if (this.entries.has(id)) return false;
    this.finished.delete(id);
    const e: Entry<D> = { id, data, opts, attempt: 1, state: 'queued', controller: new AbortController(), timer: null };
    this.entries.set(id, e);
    this.schedule(e, opts.delayMs ?? 0);
    return true;
  }

  private schedule(e: Entry<D>, delayMs: number) {
    if (delayMs > 0) {
      e.state = 'delayed';
      e.timer = setTimeout(() => {
        e.timer = null;
        e.state = 'queued';
        this.admit(e);
      }, delayMs);
      e.timer.unref();
    } else {
      e.state = 'queued';
      this.admit(e);
    }
  }

  private admit(e: Entry<D>) {
    if (this.closed) return;
    if (this.active < this.slots) this.start(e);
    else this.line.push(e);
  }

  private start(e: Entry<D>) {
    this.active++;
    e.state = 'running';
    const job: Job<D> = { id: e.id, data: e.data, signal: e.controller.signal, attempt: e.attempt, progress: async () => {} };
    // A processor that throws synchronously must not take the slot with it.
    const run = Promise.resolve()
      .then(() => this.processor(job))
      .then(
        (result) => this.finish(e, { state: 'completed', result }),
        (err: unknown) => this.failed(e, err instanceof Error ? err : new Error(String(err))),
      )
      .finally(() => {
        this.active--;
        this.runs.delete(run);
        const next = this.line.shift();
        if (next && !this.closed) this.start(next);
      });
    this.runs.add(run);
  }

  private async failed(e: Entry<D>, err: Error) {
    const attempts = e.opts.attempts ?? 1;
    // Stopped on purpose: no retry, not a failure to report.
    if (e.controller.signal.aborted) return this.finish(e, { state: 'failed', error: err });
    if (e.attempt < attempts && !this.closed) {
      this.onError?.(err, this.name, e.id);
      e.attempt++;
      this.schedule(e, backoffMs(e.opts, e.attempt - 1));
      return;
    }
    this.onError?.(err, this.name, e.id);
    this.finish(e, { state: 'failed', error: err });
    await this.opts.onFailed?.({ id: e.id, data: e.data }, err).catch((hookErr) => this.onError?.(hookErr, this.name, e.id));
  }

  private finish(e: Entry<D>, outcome: Finished<R>) {
    if (this.entries.get(e.id) === e) this.entries.delete(e.id);
    this.finished.set(e.id, outcome);
    if (this.finished.size > KEEP_FINISHED) this.finished.delete(this.finished.keys().next().value!);
    for (const w of this.waiters.get(e.id) ?? []) w();
    this.waiters.delete(e.id);
  }

  private stop(e: Entry<D>, reason: StopReason) {
    e.controller.abort(reason);
    if (e.state === 'running') return;
    if (e.timer) clearTimeout(e.timer);
    const i = this.line.indexOf(e);
    if (i >= 0) this.line.splice(i, 1);
    this.finish(e, { state: 'failed', error: new Error(reason === 'cancel' ? 'cancelled' : 'the queue closed') });
  }

  async cancel(id: string): Promise<boolean> {
    const e = this.entries.get(id);
    if (!e) return false;
    this.stop(e, 'cancel');
    return true;
  }

  async state(id: string): Promise<JobState | null> {
    return this.entries.get(id)?.state ?? this.finished.get(id)?.state ?? null;
  }

  result(id: string, timeoutMs: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        const f = this.finished.get(id);
        if (!f) reject(new Error(`job "${id}" of "${this.name}" is unknown`));
        else if (f.state === 'completed') resolve(f.result as R);
        else reject(f.error);
      };
      const timer = setTimeout(() => {
        this.waiters.get(id)?.delete(settle);
        reject(new Error(`job "${id}" of "${this.name}" did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      if (this.entries.has(id)) {
        const set = this.waiters.get(id) ?? new Set();
        set.add(settle);
        this.waiters.set(id, set);
      } else settle();
    });
  }

  async every(id: string, everyMs: number, data: D): Promise<void> {
    const old = this.schedules.get(id);
    if (old) clearInterval(old);
    const tick = () => void this.enqueue(id, data).catch(() => {});
    tick();
    const timer = setInterval(tick, Math.max(1, everyMs));
    timer.unref();
    this.schedules.set(id, timer);
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.schedules.values()) clearInterval(t);
    this.schedules.clear();
    for (const e of [...this.entries.values()]) this.stop(e, 'close');
    this.line.length = 0;
    await Promise.all(this.runs);
  }
}
