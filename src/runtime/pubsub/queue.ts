import { AppError, ErrorCode } from '../../errors.ts';
import type { Subscription } from './pubsub.ts';
import { OverflowPolicy } from './topics.ts';

/**
 * One subscriber's bounded buffer, exposed as an async iterator. `push` never blocks the
 * publisher: a slow reader only ever costs its own buffer (see OverflowPolicy).
 */
export class BoundedQueue<T> implements Subscription<T> {
  #buf: T[] = [];
  #head = 0;
  #waiter: ((r: IteratorResult<T>) => void) | null = null;
  #waiterReject: ((e: unknown) => void) | null = null;
  #failure: Error | null = null;
  #ended = false;
  #dropped = 0;
  #release: (() => void) | null;
  readonly ready: Promise<void>;
  readonly capacity: number;
  readonly policy: OverflowPolicy;
  private readonly onOverflow: (kind: OverflowPolicy) => void;

  constructor(capacity: number, policy: OverflowPolicy, release: () => void, ready: Promise<void>, onOverflow: (kind: OverflowPolicy) => void) {
    this.capacity = capacity;
    this.policy = policy;
    this.#release = release;
    this.ready = ready;
    this.onOverflow = onOverflow;
  }

  get dropped() {
    return this.#dropped;
  }

  get size() {
    return this.#buf.length - this.#head;
  }

  get ended() {
    return this.#ended;
  }

  push(value: T): void {
    if (this.#ended) return;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = this.#waiterReject = null;
      w({ value, done: false });
      return;
    }
    if (this.size >= this.capacity) {
      this.onOverflow(this.policy);
      if (this.policy === OverflowPolicy.DROP_OLDEST) {
        this.#head++;
        this.#dropped++;
      } else {
        this.fail(new AppError(ErrorCode.UNAVAILABLE, `Subscription ended: the client fell ${this.capacity} events behind; resubscribe and refetch`));
        return;
      }
    }
    this.#buf.push(value);
    // Compact now and then so a long-lived subscription does not keep a growing array.
    if (this.#head > 64 && this.#head * 2 > this.#buf.length) {
      this.#buf = this.#buf.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Ends the iterator after the buffered events (pending `next()` resolves done). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#releaseOnce();
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = this.#waiterReject = null;
      w({ value: undefined, done: true });
    }
  }

  /** Ends the iterator with an error, dropping what is buffered. */
  fail(error: Error): void {
    if (this.#ended) return;
    this.#failure = error;
    this.#buf = [];
    this.#head = 0;
    this.#ended = true;
    this.#releaseOnce();
    if (this.#waiterReject) {
      const r = this.#waiterReject;
      this.#waiter = this.#waiterReject = null;
      this.#failure = null;
      r(error);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.size > 0) {
      const value = this.#buf[this.#head] as T;
      this.#buf[this.#head++] = undefined as T;
      if (this.#head === this.#buf.length) {
        this.#buf = [];
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#failure) {
      const e = this.#failure;
      this.#failure = null;
      return Promise.reject(e);
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#waiterReject = reject;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.#buf = [];
    this.#head = 0;
    this.#failure = null;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  #releaseOnce() {
    const r = this.#release;
    this.#release = null;
    r?.();
  }
}
