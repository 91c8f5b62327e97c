import { createMemoryPubSub } from './memory.ts';
import type { PubSub } from './pubsub.ts';
import { createRedisPubSub } from './redis.ts';

export type { PubSub, PubSubStats, SubscribeOptions, Subscription } from './pubsub.ts';
export type { TopicName, Topics } from './topics.ts';
export { OverflowPolicy, topicOverflowPolicy } from './topics.ts';

/** The slice of a pino logger the pub/sub uses. */
export interface PubSubLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface PubSubOptions {
  /** Redis transport when set; in-memory otherwise. */
  redisUrl?: string | null;
  log: PubSubLogger;
  /** Redis channel namespace (default `spectro:`). */
  prefix?: string;
  connectTimeoutMs?: number;
}

/**
 * Never rejects because Redis is down: it resolves with health 'down' after a short wait and
 * keeps reconnecting in the background.
 */
export async function createPubSub(options: PubSubOptions): Promise<PubSub> {
  if (!options.redisUrl) return createMemoryPubSub();
  return createRedisPubSub({
    redisUrl: options.redisUrl,
    log: options.log,
    prefix: options.prefix,
    connectTimeoutMs: options.connectTimeoutMs,
  });
}
