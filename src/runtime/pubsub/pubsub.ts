import type { OverflowPolicy, TopicName, Topics } from './topics.ts';

export interface SubscribeOptions {
  /** Events held for a subscriber that reads slowly; default 1024. */
  bufferSize?: number;
  /** Default: the topic's policy from `topicOverflowPolicy`. */
  overflow?: OverflowPolicy;
}

/** A live subscription: an async iterator of payloads. `return()` releases everything it held. */
export interface Subscription<T> extends AsyncIterableIterator<T> {
  /**
   * Resolves once the transport delivers events for this subscription (for Redis: the SUBSCRIBE
   * was acknowledged). Events published before that may be missed. Never rejects.
   */
  readonly ready: Promise<void>;
  /** Ends the iteration and releases the channel (a pending `next()` resolves done). */
  return(): Promise<IteratorResult<T>>;
  /** Events discarded by the drop-oldest overflow policy. */
  readonly dropped: number;
}

export interface PubSubStats {
  /** Open local subscriptions. */
  subscribers: number;
  /** Distinct topic+key channels held (Redis: SUBSCRIBEd channels). */
  channels: number;
  /** Distinct key-less topic subscriptions held (Redis: PSUBSCRIBEd patterns). */
  patterns: number;
  /** Channels and patterns whose SUBSCRIBE Redis has not acknowledged yet (0 when all deliver). */
  pending: number;
  /** Events dropped by drop-oldest overflow, all subscribers together. */
  dropped: number;
  /** Subscriptions ended because their buffer overflowed (policy `error`). */
  overflowed: number;
  /** Publishes that could not reach Redis (delivered only locally or lost). */
  publishFailures: number;
}

/**
 * Topic-based pub/sub. `key` narrows a topic to one channel (e.g. a model id); subscribing with
 * no key receives every channel of the topic. In-memory by default; Redis when REDIS_URL is set.
 * `publish` never rejects: losing the transport must not fail the mutation that published.
 */
export interface PubSub {
  publish<T extends TopicName>(topic: T, key: string, payload: Topics[T]): Promise<void>;
  subscribe<T extends TopicName>(topic: T, key?: string | null, options?: SubscribeOptions): Subscription<Topics[T]>;
  /** 'up' when events flow (always for in-memory), 'down' while the transport is lost. */
  health(): 'up' | 'down';
  /**
   * Asks the transport itself, within `timeoutMs`: false when it does not answer in time. A
   * frozen Redis keeps its connections open, so `health()` alone would still say 'up'.
   */
  ping(timeoutMs: number): Promise<boolean>;
  stats(): PubSubStats;
  /** Ends every open iterator (they complete) and releases the transport. */
  close(): Promise<void>;
}
