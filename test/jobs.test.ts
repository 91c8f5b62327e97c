import { afterEach, describe, expect, it } from 'vitest';
import { stopReasonOf, type Job, type JobRunner } from '../src/runtime/jobs/jobs.ts';
import { createLocalJobs } from '../src/runtime/jobs/local.ts';

// The contract of a job runner (runtime/jobs/jobs.ts), for every implementation: the in-process
// one today; a shared queue joins this list and passes the same tests.
const implementations: [string, () => JobRunner][] = [['in-process', () => createLocalJobs({ onError: () => {} })]];

/** A promise with its resolver, to hold a job until the test lets it finish. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe.each(implementations)('job runner (%s)', (_name, make) => {
  let runner: JobRunner;
  afterEach(async () => {
    await runner?.close();
  });

  it('runs at most `concurrency` jobs at once, the others in arrival order as slots free up', async () => {
    runner = make();
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const running = new Map<string, ReturnType<typeof deferred>>();
    for (const id of ['a', 'b', 'c', 'd']) {
      gates.set(id, deferred());
      running.set(id, deferred());
    }
    const queue = runner.queue<{ n: number }>(
      'work',
      async (job) => {
        started.push(job.id);
        running.get(job.id)!.resolve();
        await gates.get(job.id)!.promise;
      },
      { concurrency: 2 },
    );
    for (const [n, id] of ['a', 'b', 'c', 'd'].entries()) await queue.enqueue(id, { n });
    await Promise.all([running.get('a')!.promise, running.get('b')!.promise]);
    expect(started).toEqual(['a', 'b']);
    expect([queue.state('a'), queue.state('c'), queue.state('x')]).toEqual(['running', 'queued', null]);
    gates.get('b')!.resolve();
    await running.get('c')!.promise;
    expect(started).toEqual(['a', 'b', 'c']);
    for (const id of ['a', 'c', 'd']) gates.get(id)!.resolve();
    await Promise.all(['a', 'b', 'c', 'd'].map((id) => queue.settled(id)));
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect(queue.ids()).toEqual([]);
  });

  it('a cancelled queued job never runs; a running one sees its signal aborted with "cancel"', async () => {
    runner = make();
    const seen: { id: string; reason: string | null }[] = [];
    const first = deferred();
    const queue = runner.queue<null>(
      'work',
      async (job: Job<null>) => {
        if (job.id === 'running') {
          first.resolve();
          await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve(), { once: true }));
        }
        seen.push({ id: job.id, reason: stopReasonOf(job.signal) });
      },
      { concurrency: 1 },
    );
    await queue.enqueue('running', null);
    await queue.enqueue('waiting', null);
    await first.promise;
    expect(queue.cancel('waiting')).toBe(true);
    expect(queue.state('waiting')).toBeNull();
    expect(queue.cancel('running')).toBe(true);
    await queue.settled('running');
    expect(seen).toEqual([{ id: 'running', reason: 'cancel' }]);
    expect(queue.cancel('running')).toBe(false);
  });

  it('close aborts running jobs with "close", waits for them, drops queued ones and takes no more', async () => {
    runner = make();
    const reasons: (string | null)[] = [];
    const started = deferred();
    const queue = runner.queue<null>(
      'work',
      async (job) => {
        started.resolve();
        await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve(), { once: true }));
        reasons.push(stopReasonOf(job.signal));
      },
      { concurrency: 1 },
    );
    await queue.enqueue('one', null);
    await queue.enqueue('two', null);
    await started.promise;
    await runner.close();
    expect(reasons).toEqual(['close']);
    expect(queue.ids()).toEqual([]);
    await expect(queue.enqueue('three', null)).rejects.toThrow(/closed/);
  });

  it('a job that fails frees its slot for the next one', async () => {
    runner = make();
    const ran: string[] = [];
    const queue = runner.queue<null>(
      'work',
      async (job) => {
        ran.push(job.id);
        if (job.id === 'bad') throw new Error('boom');
      },
      { concurrency: 1 },
    );
    await queue.enqueue('bad', null);
    await queue.enqueue('good', null);
    await queue.settled('good');
    expect(ran).toEqual(['bad', 'good']);
    expect(queue.state('bad')).toBeNull();
  });
});
