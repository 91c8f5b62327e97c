import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createBullJobs } from '../src/runtime/jobs/bullmq.ts';
import { stopReasonOf, type Job, type JobRunner } from '../src/runtime/jobs/jobs.ts';
import { createLocalJobs } from '../src/runtime/jobs/local.ts';
import { deferred, REDIS_URL } from './realtime-helpers.ts';

// The contract of a job runner (runtime/jobs/jobs.ts), for every implementation: in this process,
// and BullMQ on the real Redis (each test under a key prefix of its own, removed afterwards).
// (A worker killed mid-job is test/cluster.test.ts's: it needs a process to kill.) `runner()` makes another runner on the same queues: for BullMQ another instance of the
// deployment, in-process the same runner (there is only one).

const prefixes: string[] = [];
const bull = () => {
  const prefix = `test-jobs-${randomUUID()}:`;
  prefixes.push(prefix);
  return (leaseMs = 30_000) => createBullJobs({ url: REDIS_URL, prefix, leaseMs, onError: () => {} });
};
const implementations: [string, () => (leaseMs?: number) => JobRunner][] = [
  ['in-process', () => () => createLocalJobs({ onError: () => {} })],
  ['BullMQ', bull],
];

afterEach(async () => {
  const redis = new Redis(REDIS_URL);
  for (const prefix of prefixes.splice(0)) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  }
  redis.disconnect();
});

describe.each(implementations)('job runner (%s)', (name, family) => {
  const runners: JobRunner[] = [];
  let make: (leaseMs?: number) => JobRunner;
  const runner = (leaseMs?: number) => {
    const r = make(leaseMs);
    runners.push(r);
    return r;
  };
  const setUp = () => {
    make = family();
    return runner();
  };
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.close();
  });

  it('runs at most `concurrency` jobs at once, the others in arrival order as slots free up', async () => {
    const jobs = setUp();
    const started: string[] = [];
    const gates = new Map(['a', 'b', 'c', 'd'].map((id) => [id, deferred()]));
    const running = new Map(['a', 'b', 'c', 'd'].map((id) => [id, deferred()]));
    const queue = jobs.queue<{ n: number }>(
      'work',
      async (job) => {
        started.push(job.id);
        running.get(job.id)!.resolve();
        await gates.get(job.id)!.promise;
      },
      { concurrency: 2 },
    );
    for (const [n, id] of ['a', 'b', 'c', 'd'].entries()) expect(await queue.enqueue(id, { n })).toBe(true);
    await Promise.all([running.get('a')!.promise, running.get('b')!.promise]);
    expect(started.sort()).toEqual(['a', 'b']);
    expect([await queue.state('a'), await queue.state('c'), await queue.state('x')]).toEqual(['running', 'queued', null]);
    gates.get('b')!.resolve();
    await running.get('c')!.promise;
    expect(started.slice(2)).toEqual(['c']);
    for (const id of ['a', 'c', 'd']) gates.get(id)!.resolve();
    await Promise.all(['a', 'b', 'c', 'd'].map((id) => queue.result(id, 10_000)));
    expect(started.slice(2)).toEqual(['c', 'd']);
    expect(await queue.state('d')).toBe('completed');
  });

  it('an id already queued or running is not queued twice; a finished one runs again', async () => {
    const jobs = setUp();
    const runs: string[] = [];
    const gate = deferred();
    const queue = jobs.queue<string, string>(
      'work',
      async (job) => {
        runs.push(job.data);
        await gate.promise;
        return job.data;
      },
      { concurrency: 1 },
    );
    expect(await queue.enqueue('same', 'first')).toBe(true);
    expect(await queue.enqueue('same', 'second')).toBe(false);
    gate.resolve();
    expect(await queue.result('same', 10_000)).toBe('first');
    expect(await queue.enqueue('same', 'third')).toBe(true);
    expect(await queue.result('same', 10_000)).toBe('third');
    expect(runs).toEqual(['first', 'third']);
  });

  it('a cancelled queued job never runs; a running one sees its signal aborted with "cancel"', async () => {
    const jobs = setUp();
    const seen: { id: string; reason: string | null }[] = [];
    const first = deferred();
    const queue = jobs.queue<null>(
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
    expect(await queue.cancel('waiting')).toBe(true);
    expect(await queue.state('waiting')).not.toBe('queued');
    expect(await queue.cancel('running')).toBe(true);
    await queue.result('running', 10_000).catch(() => {});
    expect(seen).toEqual([{ id: 'running', reason: 'cancel' }]);
    expect(await queue.cancel('running')).toBe(false);
  });

  it('retries a failed run after its backoff, then reports the failure once when no attempt is left', async () => {
    const jobs = setUp();
    const attempts: number[] = [];
    const failed = deferred<{ id: string; error: string }>();
    const queue = jobs.queue<{ failUntil: number }, string>(
      'work',
      async (job) => {
        attempts.push(job.attempt);
        if (job.attempt < job.data.failUntil) throw new Error(`run ${job.attempt} failed`);
        return `ok after ${job.attempt}`;
      },
      { concurrency: 1, onFailed: async (job, error) => failed.resolve({ id: job.id, error: error.message }) },
    );
    await queue.enqueue('flaky', { failUntil: 3 }, { attempts: 3, backoff: { type: 'exponential', delayMs: 20 } });
    expect(await queue.result('flaky', 10_000)).toBe('ok after 3');
    expect(attempts).toEqual([1, 2, 3]);
    await queue.enqueue('hopeless', { failUntil: 99 }, { attempts: 2, backoff: { type: 'fixed', delayMs: 10 } });
    await expect(queue.result('hopeless', 10_000)).rejects.toThrow(/run 2 failed/);
    expect(await failed.promise).toEqual({ id: 'hopeless', error: 'run 2 failed' });
    expect(await queue.state('hopeless')).toBe('failed');
  });

  it('a delayed job waits its delay; a scheduled one comes back every interval', async () => {
    const jobs = setUp();
    const at: Record<string, number[]> = { later: [], tick: [] };
    const ticks = deferred();
    const queue = jobs.queue<string>(
      'work',
      async (job) => {
        at[job.data]!.push(Date.now());
        if (at.tick!.length === 3) ticks.resolve();
      },
      { concurrency: 2 },
    );
    const queuedAt = Date.now();
    await queue.enqueue('later', 'later', { delayMs: 300 });
    expect(await queue.state('later')).toBe('delayed');
    await queue.result('later', 10_000);
    expect(at.later![0]! - queuedAt).toBeGreaterThanOrEqual(290);
    await queue.every('tick', 100, 'tick');
    await ticks.promise;
    expect(at.tick!.length).toBeGreaterThanOrEqual(3);
  });

  it.skipIf(name !== 'BullMQ')('instances share the queues: one queues, another runs, and a cancel reaches it', async () => {
    const api = setUp();
    const worker = runner();
    const started = deferred();
    const stopped = deferred<string | null>();
    const producer = api.queue<string, string>('shared', null, { concurrency: 1 });
    worker.queue<string, string>(
      'shared',
      async (job) => {
        if (job.data === 'wait') {
          started.resolve();
          await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve(), { once: true }));
          stopped.resolve(stopReasonOf(job.signal));
          return 'stopped';
        }
        return `ran ${job.data}`;
      },
      { concurrency: 1 },
    );
    await producer.enqueue('one', 'one');
    expect(await producer.result('one', 10_000)).toBe('ran one');
    await producer.enqueue('two', 'wait');
    await started.promise;
    expect(await producer.state('two')).toBe('running');
    expect(await producer.cancel('two')).toBe(true);
    expect(await stopped.promise).toBe('cancel');
  });

  it.skipIf(name !== 'BullMQ')('a worker that shuts down hands its running job back, and another worker runs it', async () => {
    const first = setUp();
    const second = runner();
    const ranOn: string[] = [];
    const started = deferred();
    const process = (who: string) => async (job: Job<null>) => {
      ranOn.push(who);
      if (who === 'first') {
        started.resolve();
        await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve(), { once: true }));
        return `stopped on ${who}: ${stopReasonOf(job.signal)}`;
      }
      return `done on ${who}`;
    };
    const q1 = first.queue<null, string>('handover', process('first'), { concurrency: 1 });
    await q1.enqueue('job', null);
    await started.promise;
    const q2 = second.queue<null, string>('handover', process('second'), { concurrency: 1 });
    await first.close();
    expect(await q2.result('job', 15_000)).toBe('done on second');
    expect(ranOn).toEqual(['first', 'second']);
  });
});
