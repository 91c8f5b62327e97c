import type { PubSub, PubSubStats } from '../runtime/pubsub/pubsub.ts';
import type { Metrics } from '../runtime/telemetry/metrics.ts';

/**
 * The pub/sub as before, counting publishes by topic; at each scrape its own counters (dropped
 * events, slow-consumer closes, publish failures), its subscriber and channel counts, and its
 * health (a ping within `pingTimeoutMs`, so a frozen Redis reads 0) are copied into the metrics.
 */
export function instrumentPubSub(pubsub: PubSub, metrics: Metrics, opts: { transport: 'redis' | 'memory'; pingTimeoutMs: number }): PubSub {
  const { transport } = opts;
  let last: Pick<PubSubStats, 'dropped' | 'overflowed' | 'publishFailures'> = { dropped: 0, overflowed: 0, publishFailures: 0 };
  metrics.onScrape(async () => {
    const s = pubsub.stats();
    // Counters only go up: add what happened since the last scrape.
    metrics.subscriptions.dropped.inc(Math.max(0, s.dropped - last.dropped));
    metrics.subscriptions.slowConsumerCloses.inc({ reason: 'event_buffer' }, Math.max(0, s.overflowed - last.overflowed));
    metrics.pubsub.publishFailures.inc(Math.max(0, s.publishFailures - last.publishFailures));
    last = s;
    metrics.pubsub.subscribers.set(s.subscribers);
    metrics.pubsub.channels.set(s.channels + s.patterns);
    const t0 = performance.now();
    const ok = pubsub.health() === 'up' && (await pubsub.ping(opts.pingTimeoutMs));
    metrics.pubsub.up.set({ transport }, ok ? 1 : 0);
    if (ok) metrics.pubsub.pingSeconds.set({ transport }, (performance.now() - t0) / 1000);
    else metrics.pubsub.pingSeconds.remove({ transport });
  });
  return {
    publish(topic, key, payload) {
      metrics.pubsub.published.inc({ topic });
      return pubsub.publish(topic, key, payload);
    },
    subscribe: (topic, key, options) => pubsub.subscribe(topic, key, options),
    health: () => pubsub.health(),
    ping: (timeoutMs) => pubsub.ping(timeoutMs),
    stats: () => pubsub.stats(),
    close: () => pubsub.close(),
  };
}
