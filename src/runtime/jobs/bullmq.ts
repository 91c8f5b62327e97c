import { Queue, QueueEvents, WaitingError, Worker, type Job as BullJob } from 'bullmq';
import { Redis } from 'ioredis';
import type { EnqueueOptions, JobQueue, JobRunner, JobState, Processor, QueueOptions, StopReason } from './jobs.ts';

export interface BullJobsOptions {
  /** REDIS_URL. */
  url: string;
  /** REDIS_PREFIX: the queues' keys start with `<prefix>jobs:`. */
  prefix: string;
  /**
   * JOB_LEASE_MS: how long a worker's lock on a job lasts without renewal (renewed every half).
   * A worker that died loses its jobs after this; the others look for such jobs as often.
   */
  leaseMs: number;
  onError?: (err: unknown, queue: string, id: string | null) => void;
}

/** A close step that has not finished by then (Redis gone) is cut short: a shutdown must end. */
const CLOSE_STEP_MS = 5000;
const bounded = (p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, CLOSE_STEP_MS).unref())]);

/** Runs of a job that may end with its worker gone before it fails for good. */
const MAX_STALLED = 2;
/** Cancel marks outlive any run they could still reach. */
const CANCEL_MARK_SECONDS = 24 * 3600;

const STATES: Record<string, JobState> = {
  waiting: 'queued',
  prioritized: 'queued',
  'waiting-children': 'queued',
  delayed: 'delayed',
  active: 'running',
  completed: 'completed',
  failed: 'failed',
};

/**
 * Jobs on BullMQ (Redis), shared by every instance of the deployment: any instance queues, the
 * instances with a processor (ROLE=worker or all) take jobs as they have room. BullMQ holds each
 * running job under a lock its worker renews; a worker that dies (crash, kill -9, lost machine)
 * stops renewing, and another worker's stalled-job check puts the job back in line within about
 * two leases (after `MAX_STALLED` such deaths it fails for good). On a clean shutdown running jobs
 * are handed back at once: their processors stop on the 'close' signal and the job returns to the
 * line for another worker. A cancel reaches the worker running the job over Redis pub/sub, and a
 * mark in Redis catches a run that starts later (a retry).
 */
export function createBullJobs(opts: BullJobsOptions): JobRunner {
  const prefix = `${opts.prefix}jobs`;
  const connection = new Redis(opts.url, { maxRetriesPerRequest: null, lazyConnect: false });
  const subscriber = new Redis(opts.url, { maxRetriesPerRequest: null });
  connection.on('error', (err) => opts.onError?.(err, '*', null));
  subscriber.on('error', (err) => opts.onError?.(err, '*', null));
  const cancelChannel = `${prefix}:cancel`;
  const cancelMark = (queue: string, id: string) => `${prefix}:${queue}:cancelled:${id}`;

  /** Jobs running in this process, per queue: their abort controllers. */
  const running = new Map<string, Map<string, AbortController>>();
  const closers: (() => Promise<void>)[] = [];
  let closing = false;

  void subscriber.subscribe(cancelChannel).catch((err) => opts.onError?.(err, '*', null));
  subscriber.on('message', (channel, message) => {
    if (channel !== cancelChannel) return;
    try {
      const { queue, id } = JSON.parse(message) as { queue: string; id: string };
      running
        .get(queue)
        ?.get(id)
        ?.abort('cancel' satisfies StopReason);
    } catch {
      // not ours
    }
  });

  return {
    shared: true,
    queue<D, R = void>(name: string, processor: Processor<D, R> | null, qopts: QueueOptions<D>): JobQueue<D, R> {
      const queue = new Queue<D, R>(name, {
        connection,
        prefix,
        defaultJobOptions: {
          // Finished jobs stay readable for a while (state, result), then go.
          removeOnComplete: { age: 3600, count: 1000 },
          removeOnFail: { age: 24 * 3600, count: 1000 },
        },
      });
      queue.on('error', (err) => opts.onError?.(err, name, null));
      const mine = new Map<string, AbortController>();
      running.set(name, mine);
      let events: QueueEvents | null = null;
      let worker: Worker<D, R> | null = null;

      if (processor) {
        worker = new Worker<D, R>(
          name,
          async (job: BullJob<D, R>, token?: string) => {
            const id = job.id!;
            const controller = new AbortController();
            if (closing) controller.abort('close' satisfies StopReason);
            mine.set(id, controller);
            try {
              if (await connection.exists(cancelMark(name, id))) controller.abort('cancel' satisfies StopReason);
              const result =
                controller.signal.reason === 'close'
                  ? (undefined as R)
                  : await processor({
                      id,
                      data: job.data,
                      signal: controller.signal,
                      attempt: Math.max(1, job.attemptsStarted ?? job.attemptsMade + 1),
                      progress: (fraction) => job.updateProgress(Math.round(fraction * 1000) / 1000),
                    });
              if (controller.signal.reason === 'close') {
                // Handed back whole: another worker runs it from where its owner left it.
                await job.moveToWait(token);
                throw new WaitingError();
              }
              return result;
            } finally {
              mine.delete(id);
            }
          },
          {
            connection,
            prefix,
            concurrency: Math.max(1, qopts.concurrency),
            lockDuration: opts.leaseMs,
            stalledInterval: opts.leaseMs,
            maxStalledCount: MAX_STALLED,
          },
        );
        worker.on('error', (err) => opts.onError?.(err, name, null));
        worker.on('failed', (job, err) => {
          if (!job) return;
          opts.onError?.(err, name, job.id ?? null);
          // finishedOn is set once the job has failed for good (no retry left).
          if (job.finishedOn && qopts.onFailed) {
            void qopts.onFailed({ id: job.id!, data: job.data }, err).catch((hookErr) => opts.onError?.(hookErr, name, job.id ?? null));
          }
        });
      }

      closers.push(async () => {
        for (const c of mine.values()) c.abort('close' satisfies StopReason);
        // Running jobs end on the signal (their processors leave them resumable); without Redis the
        // hand-back cannot happen, and the lock lapsing hands them to another worker instead.
        if (worker && !(await bounded(worker.close().then(() => true)))) void worker.close(true).catch(() => {});
        if (events) await bounded(events.close());
        await bounded(queue.close());
      });

      const jobOf = async (id: string) => (await queue.getJob(id)) as BullJob<D, R> | undefined;
      const stateOf = async (job: BullJob<D, R> | undefined) => (job ? (STATES[await job.getState()] ?? null) : null);

      return {
        name,
        async enqueue(id, data, o: EnqueueOptions = {}) {
          const existing = await jobOf(id);
          const state = await stateOf(existing);
          if (state && state !== 'completed' && state !== 'failed') return false;
          // A finished job of that id runs again (its record goes first).
          if (existing) await existing.remove().catch(() => {});
          await connection.del(cancelMark(name, id));
          await queue.add(name as never, data as never, {
            jobId: id,
            ...(o.delayMs ? { delay: o.delayMs } : {}),
            attempts: Math.max(1, o.attempts ?? 1),
            ...(o.backoff ? { backoff: { type: o.backoff.type, delay: o.backoff.delayMs } } : {}),
          });
          return true;
        },
        async cancel(id) {
          const job = await jobOf(id);
          const state = await stateOf(job);
          if (!job || !state || state === 'completed' || state === 'failed') return false;
          await connection.set(cancelMark(name, id), '1', 'EX', CANCEL_MARK_SECONDS);
          if (state !== 'running') {
            try {
              await job.remove();
              return true;
            } catch {
              // Taken by a worker meanwhile: it sees the mark, or the message below.
            }
          }
          mine.get(id)?.abort('cancel' satisfies StopReason);
          await connection.publish(cancelChannel, JSON.stringify({ queue: name, id }));
          return true;
        },
        state: async (id) => stateOf(await jobOf(id)),
        async result(id, timeoutMs) {
          if (!events) {
            events = new QueueEvents(name, { connection: new Redis(opts.url, { maxRetriesPerRequest: null }), prefix });
            events.on('error', (err) => opts.onError?.(err, name, null));
            await events.waitUntilReady();
          }
          const job = await jobOf(id);
          if (!job) throw new Error(`job "${id}" of "${name}" is unknown`);
          return job.waitUntilFinished(events, timeoutMs) as Promise<R>;
        },
        async every(id, everyMs, data) {
          await queue.upsertJobScheduler(id as never, { every: Math.max(1, everyMs) }, { name, data } as never);
        },
        ids: () => [...mine.keys()],
      };
    },

    async close() {
      closing = true;
      for (const close of closers) await close().catch((err) => opts.onError?.(err, '*', null));
      subscriber.disconnect();
      if (
        !(await bounded(
          connection.quit().then(
            () => true,
            () => false,
          ),
        ))
      )
        connection.disconnect();
    },
  };
}
