import type { Job, JobQueue, JobRunner, Processor, StopReason } from './jobs.ts';

interface Entry<D> {
  job: Job<D>;
  controller: AbortController;
  started: boolean;
  done: Promise<void>;
  finish: () => void;
}

/**
 * Jobs in this process: each queue has `concurrency` slots and a line for the rest. A queued job
 * is cancelled by leaving the line (it never runs), a running one through its AbortSignal.
 * Nothing survives a restart: work that must resume is recorded in the store by its owner.
 */
export function createLocalJobs(opts: { onError?: (err: unknown, queue: string, id: string) => void } = {}): JobRunner {
  const queues: JobQueue<unknown>[] = [];
  return {
    queue<D>(name: string, processor: Processor<D>, { concurrency }: { concurrency: number }): JobQueue<D> {
      const q = localQueue(name, processor, Math.max(1, concurrency), opts.onError);
      queues.push(q as JobQueue<unknown>);
      return q;
    },
    async close() {
      await Promise.all(queues.map((q) => q.close()));
    },
  };
}

function localQueue<D>(
  name: string,
  processor: Processor<D>,
  slots: number,
  onError?: (err: unknown, queue: string, id: string) => void,
): JobQueue<D> {
  let running = 0;
  let closed = false;
  const entries = new Map<string, Entry<D>>();
  const line: Entry<D>[] = [];

  const start = (e: Entry<D>) => {
    running++;
    e.started = true;
    // A processor that throws synchronously must not take the slot with it.
    Promise.resolve()
      .then(() => processor(e.job))
      .catch((err) => onError?.(err, name, e.job.id))
      .finally(() => {
        running--;
        entries.delete(e.job.id);
        e.finish();
        const next = line.shift();
        if (next && !closed) start(next);
      });
  };

  const stop = (e: Entry<D>, reason: StopReason) => {
    e.controller.abort(reason);
    if (e.started) return;
    const i = line.indexOf(e);
    if (i >= 0) line.splice(i, 1);
    entries.delete(e.job.id);
    e.finish();
  };

  return {
    async enqueue(id, data) {
      if (closed) throw new Error(`the job queue "${name}" is closed`);
      if (entries.has(id)) return;
      const controller = new AbortController();
      let finish!: () => void;
      const done = new Promise<void>((resolve) => (finish = resolve));
      const e: Entry<D> = { job: { id, data, signal: controller.signal }, controller, started: false, done, finish };
      entries.set(id, e);
      if (running < slots) start(e);
      else line.push(e);
    },
    cancel(id) {
      const e = entries.get(id);
      if (!e) return false;
      stop(e, 'cancel');
      return true;
    },
    settled: (id) => entries.get(id)?.done ?? Promise.resolve(),
    ids: () => [...entries.keys()],
    state(id) {
      const e = entries.get(id);
      return e ? (e.started ? 'running' : 'queued') : null;
    },
    async close() {
      closed = true;
      const all = [...entries.values()];
      for (const e of all) stop(e, 'close');
      await Promise.all(all.map((e) => e.done));
    },
  };
}
