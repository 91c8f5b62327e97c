/**
 * Background work in named queues: training, background predictions (and, with a shared queue
 * such as BullMQ on Redis, export building and sweeping). Producers enqueue; the instance that
 * registered a processor for a queue runs its jobs, at most `concurrency` at once, in arrival
 * order. The embedded implementation runs them in this process (local.ts).
 */
export interface Job<D> {
  /** Unique in its queue (a model id for training, a job id for predictions). */
  readonly id: string;
  readonly data: D;
  /**
   * Aborted when the job is to stop: `reason` is `'cancel'` (the user cancelled it) or `'close'`
   * (the runner is shutting down; the job should leave its work resumable).
   */
  readonly signal: AbortSignal;
}

export type StopReason = 'cancel' | 'close';

export type Processor<D> = (job: Job<D>) => Promise<void>;

export interface JobQueue<D> {
  /** Queues a job; resolves once it is accepted, not when it ran. An id already queued or running is left as it is. */
  enqueue(id: string, data: D): Promise<void>;
  /**
   * Stops the job: a queued one is dropped and never runs (the caller records that), a running
   * one sees its signal aborted with 'cancel'. False when it is neither queued nor running here.
   */
  cancel(id: string): boolean;
  /** Resolves when the job is neither queued nor running here (at once when it is not). */
  settled(id: string): Promise<void>;
  /** Ids of the jobs queued or running here. */
  ids(): string[];
  /** Where the job stands here: waiting for a slot, running, or neither (null). */
  state(id: string): 'queued' | 'running' | null;
  /** Takes no more jobs, aborts running ones ('close') and waits for them; queued ones are dropped. */
  close(): Promise<void>;
}

export interface JobRunner {
  /** The queue `name`, whose jobs this instance runs with `processor`, `concurrency` at once. */
  queue<D>(name: string, processor: Processor<D>, opts: { concurrency: number }): JobQueue<D>;
  /** Closes every queue. */
  close(): Promise<void>;
}

/** Why a job's signal was aborted (null while it runs on). */
export const stopReasonOf = (signal: AbortSignal): StopReason | null =>
  signal.aborted ? (signal.reason === 'close' ? 'close' : 'cancel') : null;
