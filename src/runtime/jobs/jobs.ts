/**
 * Background work in named queues: training, background predictions, export building, sweeping,
 * and whatever else must run once, later or again (webhook deliveries schedule through it too).
 * Producers enqueue under an id of their choosing (idempotent: an id already queued or running is
 * left as it is); instances that registered a processor for a queue run its jobs, at most
 * `concurrency` at once each, oldest first. Two implementations behind this interface:
 * - in this process (local.ts): the embedded default, nothing survives a restart (the owners of
 *   resumable work keep it in the store);
 * - BullMQ on Redis (bullmq.ts, REDIS_URL): jobs shared by every instance, durable, and a job whose
 *   worker died is run again by another one once its lease (JOB_LEASE_MS) lapses.
 */
export interface Job<D> {
  /** Unique in its queue (a model id for training, a job id for predictions). */
  readonly id: string;
  readonly data: D;
  /**
   * Aborted when the job is to stop: `reason` is `'cancel'` (someone cancelled it) or `'close'`
   * (the runner is shutting down: the job should leave its work resumable; it runs again, on
   * another instance where the queue is shared).
   */
  readonly signal: AbortSignal;
  /** 1 for the first run; more when a run failed and was retried, or its worker died. */
  readonly attempt: number;
  /** Reports how far the job is (0..1), for whoever watches the queue. */
  progress(fraction: number): Promise<void>;
}

export type StopReason = 'cancel' | 'close';

/** Runs a job; what it resolves with is the job's result (`JobQueue.result`). A throw fails the run. */
export type Processor<D, R = void> = (job: Job<D>) => Promise<R>;

export interface EnqueueOptions {
  /** Runs no earlier than this many ms from now. */
  delayMs?: number;
  /** Runs in all, counting the first (default 1: a failed run is not retried). */
  attempts?: number;
  /** Wait before a retry: `fixed` waits `delayMs`, `exponential` doubles it each time. */
  backoff?: { type: 'fixed' | 'exponential'; delayMs: number };
}

export type JobState = 'queued' | 'delayed' | 'running' | 'completed' | 'failed';

export interface QueueOptions<D> {
  /** Jobs this instance runs at once (ignored where it has no processor). */
  concurrency: number;
  /**
   * Called once when a job fails for good: its last run threw, or its workers died more often
   * than allowed. The place to record the failure where users see it.
   */
  onFailed?: (job: { id: string; data: D }, error: Error) => Promise<void>;
}

export interface JobQueue<D, R = void> {
  readonly name: string;
  /** Queues a job; resolves once it is accepted (not run). False when the id was already queued, running or kept. */
  enqueue(id: string, data: D, opts?: EnqueueOptions): Promise<boolean>;
  /**
   * Stops the job wherever it is: a queued one never runs, a running one sees its signal aborted
   * with 'cancel'. False when it is neither queued nor running.
   */
  cancel(id: string): Promise<boolean>;
  /** Where the job stands; null when it is unknown (never queued, or long finished). */
  state(id: string): Promise<JobState | null>;
  /** The job's result once it completed; rejects with its error when it failed for good, or after `timeoutMs`. */
  result(id: string, timeoutMs: number): Promise<R>;
  /** Queues a job under `id` every `everyMs` (the first one now); replaces an earlier schedule of that id. */
  every(id: string, everyMs: number, data: D): Promise<void>;
  /** Ids of the jobs this instance has: queued or running in-process; running on it where shared. */
  ids(): string[];
}

export interface JobRunner {
  /** True when the queues are shared by instances (BullMQ), false in-process. */
  readonly shared: boolean;
  /**
   * The queue `name`. With a processor this instance runs its jobs (ROLE=worker or all); with
   * null it only queues them (ROLE=api).
   */
  queue<D, R = void>(name: string, processor: Processor<D, R> | null, opts: QueueOptions<D>): JobQueue<D, R>;
  /** Takes no more jobs, aborts running ones ('close') and waits for them. */
  close(): Promise<void>;
}

/** Why a job's signal was aborted (null while it runs on). */
export const stopReasonOf = (signal: AbortSignal): StopReason | null => (signal.aborted ? (signal.reason === 'close' ? 'close' : 'cancel') : null);

/** The wait before run `attempt + 1` after run `attempt` failed. */
export const backoffMs = (opts: EnqueueOptions, attempt: number): number => {
  const b = opts.backoff;
  if (!b) return 0;
  return b.type === 'fixed' ? b.delayMs : b.delayMs * 2 ** (attempt - 1);
};
