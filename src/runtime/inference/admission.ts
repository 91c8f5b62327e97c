import { AppError, ErrorCode } from '../../errors.ts';

/**
 * Admission of one model's pictures into the pipeline. At most `concurrency` pictures are in the
 * worker threads at once (enough to form full batches and keep the decode pool busy); the rest
 * wait here, synchronous ones before background ones. Synchronous requests are bounded: a
 * request whose pictures would take the model past `depth` admitted pictures is refused at once,
 * and a picture that has waited `deadlineMs` for its turn is refused too, so a line that sends
 * faster than the model judges gets a clear "come back later" instead of answers arriving too
 * late while memory fills. Background jobs are never refused: they wait (their own loops bound
 * them).
 */

export interface AdmissionOptions {
  concurrency: number;
  depth: number;
  deadlineMs: number;
}

/** One model's queue as readiness shows it. */
export interface AdmissionState {
  /** Pictures in the worker threads now. */
  active: number;
  /** Synchronous pictures waiting for their turn / background pictures waiting. */
  waiting: number;
  waitingBackground: number;
  /** Synchronous pictures admitted and not finished (the figure bounded by `depth`). */
  admitted: number;
  depth: number;
  concurrency: number;
  /** How long the oldest waiting synchronous picture has waited. */
  oldestWaitMs: number;
  rejected: { queueFull: number; deadline: number };
}

export interface AdmissionHooks {
  onDepth?: (waiting: number) => void;
  onWait?: (seconds: number) => void;
  onReject?: (reason: 'queue_full' | 'deadline') => void;
}

interface Waiter {
  at: number;
  grant: () => void;
  timer: NodeJS.Timeout | null;
}

/** Releases what was taken; calling it again does nothing. */
export type Release = () => void;

export class Admission {
  private active = 0;
  private admitted = 0;
  private readonly sync: Waiter[] = [];
  private readonly background: Waiter[] = [];
  private readonly rejected = { queueFull: 0, deadline: 0 };
  /** Mean time a picture holds its slot (exponentially weighted): sizes Retry-After. */
  private holdMs = 50;

  private readonly modelId: string;
  private readonly options: AdmissionOptions;
  private readonly hooks: AdmissionHooks;

  constructor(modelId: string, options: AdmissionOptions, hooks: AdmissionHooks = {}) {
    this.modelId = modelId;
    this.options = { ...options };
    this.hooks = hooks;
  }

  /**
   * Room for the `n` pictures of one synchronous request, or AppError UNAVAILABLE (reason
   * QUEUE_FULL, with retryAfter seconds) when they would take the model past its depth.
   */
  admit(n: number): Release {
    if (this.admitted + n > this.options.depth) {
      this.rejected.queueFull++;
      this.hooks.onReject?.('queue_full');
      throw this.refusal(
        'QUEUE_FULL',
        `model "${this.modelId}" has ${this.admitted} pictures admitted and takes at most ${this.options.depth} (PREDICT_QUEUE_DEPTH): try again later`,
      );
    }
    this.admitted += n;
    let left = n;
    return () => {
      this.admitted -= left;
      left = 0;
    };
  }

  /**
   * A slot in the pipeline for one picture. Synchronous pictures are served
   * first and refused (reason QUEUE_DEADLINE) once they have waited `deadlineMs`.
   */
  acquire(kind: 'sync' | 'background'): Promise<Release> {
    const queue = kind === 'sync' ? this.sync : this.background;
    if (this.active < this.options.concurrency && this.sync.length === 0 && (kind === 'sync' || this.background.length === 0)) {
      this.active++;
      if (kind === 'sync') this.hooks.onWait?.(0);
      return Promise.resolve(this.slot());
    }
    return new Promise<Release>((resolve, reject) => {
      const w: Waiter = {
        at: performance.now(),
        grant: () => {
          if (w.timer) clearTimeout(w.timer);
          if (kind === 'sync') this.hooks.onWait?.((performance.now() - w.at) / 1000);
          resolve(this.slot());
        },
        timer: null,
      };
      if (kind === 'sync') {
        w.timer = setTimeout(() => {
          const i = this.sync.indexOf(w);
          if (i < 0) return;
          this.sync.splice(i, 1);
          this.hooks.onDepth?.(this.sync.length);
          this.rejected.deadline++;
          this.hooks.onReject?.('deadline');
          reject(
            this.refusal(
              'QUEUE_DEADLINE',
              `model "${this.modelId}" did not get to the picture within ${this.options.deadlineMs} ms (PREDICT_QUEUE_DEADLINE_MS): try again later`,
            ),
          );
        }, this.options.deadlineMs);
        w.timer.unref();
      }
      queue.push(w);
      if (kind === 'sync') this.hooks.onDepth?.(this.sync.length);
    });
  }

  /**
   * Pictures let into the pipeline at once, once the model's batch cap is known (on load). More
   * only queue in the worker threads, where no deadline reaches them.
   */
  setConcurrency(n: number): void {
    this.options.concurrency = Math.max(1, n);
    while (this.active < this.options.concurrency) {
      const next = this.sync.shift() ?? this.background.shift();
      if (!next) break;
      this.hooks.onDepth?.(this.sync.length);
      this.active++;
      next.grant();
    }
  }

  state(): AdmissionState {
    return {
      active: this.active,
      waiting: this.sync.length,
      waitingBackground: this.background.length,
      admitted: this.admitted,
      depth: this.options.depth,
      concurrency: this.options.concurrency,
      oldestWaitMs: this.sync.length > 0 ? Math.round(performance.now() - this.sync[0]!.at) : 0,
      rejected: { ...this.rejected },
    };
  }

  private slot(): Release {
    const started = performance.now();
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.holdMs = 0.9 * this.holdMs + 0.1 * (performance.now() - started);
      this.active--;
      const next = this.sync.shift() ?? this.background.shift();
      if (next) {
        this.hooks.onDepth?.(this.sync.length);
        this.active++;
        next.grant();
      }
    };
  }

  /** Seconds after which the queue as it stands would have drained: what Retry-After says. */
  private retryAfter(): number {
    const ahead = this.sync.length + this.active;
    return Math.min(60, Math.max(1, Math.ceil((ahead * this.holdMs) / this.options.concurrency / 1000)));
  }

  private refusal(reason: 'QUEUE_FULL' | 'QUEUE_DEADLINE', message: string): AppError {
    const retryAfter = this.retryAfter();
    return new AppError(ErrorCode.UNAVAILABLE, message, {
      reason,
      retryAfter,
      modelId: this.modelId,
      http: { status: 503, headers: { 'Retry-After': String(retryAfter) } },
    });
  }
}
