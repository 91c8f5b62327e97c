import type { TopicName, Topics } from './topics.ts';

/**
 * Topic-based pub/sub. `key` narrows a topic to one channel (e.g. a model id); subscribing with
 * no key receives every channel of the topic. In-memory by default; Redis when REDIS_URL is set.
 */
export interface PubSub {
  publish<T extends TopicName>(topic: T, key: string, payload: Topics[T]): Promise<void>;
  /** An async iterator of payloads; `return()` on it releases everything it held. */
  subscribe<T extends TopicName>(topic: T, key?: string | null): AsyncIterableIterator<Topics[T]>;
  /** 'up' when events flow (always for in-memory), 'down' while the transport is lost. */
  health(): 'up' | 'down';
  close(): Promise<void>;
}
