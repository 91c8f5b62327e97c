import { Hub } from './hub.ts';
import type { PubSub } from './pubsub.ts';

/** Single-process pub/sub: publish delivers synchronously to this process's subscribers. */
export function createMemoryPubSub(): PubSub {
  const hub = new Hub({ acquire: () => Promise.resolve(), release: () => {} });
  return {
    async publish(topic, key, payload) {
      // A JSON round trip so subscribers see exactly what the Redis transport would deliver.
      hub.deliver(topic, key, JSON.parse(JSON.stringify(payload)));
    },
    subscribe: (topic, key, options) => hub.subscribe(topic, key, options),
    health: () => 'up',
    ping: async () => true,
    stats: () => hub.stats(),
    async close() {
      hub.close();
    },
  };
}
