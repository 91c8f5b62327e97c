import { Redis } from 'ioredis';
import { Hub } from './hub.ts';
import type { PubSub } from './pubsub.ts';
import type { PubSubLogger } from './index.ts';
import { type TopicName, topicNames } from './topics.ts';

export interface RedisPubSubOptions {
  redisUrl: string;
  log: PubSubLogger;
  /** Channel namespace, so deployments (or test runs) sharing a Redis do not hear each other. */
  prefix?: string;
  /** How long `createRedisPubSub` waits for Redis before resolving with health 'down'. */
  connectTimeoutMs?: number;
}

/**
 * Redis transport: one channel per topic+key (`<prefix><topic>:<key>`), one pattern per
 * key-less topic subscription (`<prefix><topic>:*`), each SUBSCRIBEd once per process however
 * many local subscribers share it. Separate connections for publishing and subscribing.
 *
 * Reconnects are ours, not ioredis's: autoResubscribe and command resending are off, and on every
 * `ready` the subscriber connection re-subscribes exactly the channels the hub holds then, so a
 * channel released while Redis was away is not brought back.
 */
export async function createRedisPubSub(options: RedisPubSubOptions): Promise<PubSub> {
  const { log } = options;
  const prefix = options.prefix ?? 'spectro:';
  const channelOf = (topic: TopicName, key: string) => `${prefix}${topic}:${key}`;
  const patternOf = (topic: TopicName) => `${prefix}${escapeGlob(topic)}:*`;
  const topicOfPattern = new Map(topicNames.map((t) => [patternOf(t), t] as const));
  const common = {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    maxRetriesPerRequest: 1,
    // Keep retrying forever, at most every second: delivery must resume by itself.
    retryStrategy: (times: number) => Math.min(times * 100, 1000),
    lazyConnect: true,
  };
  // Named after the prefix so an operator (or a test) can tell whose connection is whose.
  const name = prefix.replace(/[^\w:.-]/g, '_');
  const pub = new Redis(options.redisUrl, { ...common, commandTimeout: 2000, connectionName: `${name}pub` });
  const sub = new Redis(options.redisUrl, { ...common, connectionName: `${name}sub` });

  // Per channel/pattern: resolvers waiting for the SUBSCRIBE to be acknowledged.
  const waiting = new Map<string, (() => void)[]>();
  const confirm = (name: string) => {
    const ws = waiting.get(name);
    waiting.delete(name);
    for (const w of ws ?? []) w();
  };
  const wait = (name: string) =>
    new Promise<void>((resolve) => {
      const ws = waiting.get(name) ?? [];
      ws.push(resolve);
      waiting.set(name, ws);
    });

  let closed = false;
  let synced = false; // the subscriber connection holds every channel the hub holds
  let up = false;
  let everUp = false;
  const setHealth = () => {
    const now = !closed && synced && pub.status === 'ready' && sub.status === 'ready';
    if (now === up) return;
    up = now;
    if (closed) return;
    if (now) {
      if (everUp) log.info({ transport: 'redis' }, 'pubsub: Redis is back, event delivery resumed');
      everUp = true;
    } else if (everUp) {
      log.warn({ transport: 'redis' }, 'pubsub: Redis connection lost; events are delivered within this instance only until it returns');
    }
  };

  const hub = new Hub({
    acquire(topic, key) {
      const name = key === null ? patternOf(topic) : channelOf(topic, key);
      const acked = wait(name);
      if (sub.status === 'ready' && synced) {
        const cmd = key === null ? sub.psubscribe(name) : sub.subscribe(name);
        cmd.then(
          () => confirm(name),
          () => {}, // connection dropped: the resync on `ready` subscribes it and confirms
        );
      }
      return acked;
    },
    release(topic, key) {
      const name = key === null ? patternOf(topic) : channelOf(topic, key);
      confirm(name); // nobody waits on a released channel any more
      if (sub.status === 'ready' && synced) {
        const cmd = key === null ? sub.punsubscribe(name) : sub.unsubscribe(name);
        cmd.catch(() => {}); // a new connection starts without it anyway
      }
    },
  });

  const resync = async () => {
    const { keyed, topicWide } = hub.held();
    const channels = keyed.map(([t, k]) => channelOf(t, k));
    const patterns = topicWide.map(patternOf);
    try {
      // Batches keep a single command's arguments reasonable with many thousands of channels.
      for (let i = 0; i < channels.length; i += 1000) await sub.subscribe(...channels.slice(i, i + 1000));
      if (patterns.length) await sub.psubscribe(...patterns);
    } catch {
      return; // dropped again; the next `ready` tries again
    }
    synced = true;
    // Channels acquired while resyncing were not in the snapshot: subscribe them now.
    const now = hub.held();
    const late = now.keyed.map(([t, k]) => channelOf(t, k)).filter((c) => !channels.includes(c));
    const latePatterns = now.topicWide.map(patternOf).filter((p) => !patterns.includes(p));
    try {
      if (late.length) await sub.subscribe(...late);
      if (latePatterns.length) await sub.psubscribe(...latePatterns);
    } catch {
      synced = false;
      return;
    }
    // Channels released while resyncing were subscribed by the snapshot: let them go.
    const heldNow = new Set([...now.keyed.map(([t, k]) => channelOf(t, k)), ...now.topicWide.map(patternOf)]);
    const stale = channels.filter((c) => !heldNow.has(c));
    const stalePatterns = patterns.filter((p) => !heldNow.has(p));
    if (stale.length) sub.unsubscribe(...stale).catch(() => {});
    if (stalePatterns.length) sub.punsubscribe(...stalePatterns).catch(() => {});
    for (const name of [...channels, ...patterns, ...late, ...latePatterns]) confirm(name);
    setHealth();
  };

  sub.on('ready', () => void resync());
  sub.on('close', () => {
    synced = false;
    setHealth();
  });
  pub.on('ready', setHealth);
  pub.on('close', setHealth);
  for (const conn of [pub, sub]) {
    // Connection errors are reported once through the health transition, not per retry.
    conn.on('error', () => {});
  }

  sub.on('message', (channel: string, message: string) => {
    if (!channel.startsWith(prefix)) return;
    const rest = channel.slice(prefix.length);
    const i = rest.indexOf(':');
    const topic = rest.slice(0, i) as TopicName;
    const payload = parse(message);
    if (payload !== undefined) hub.deliverKeyed(topic, rest.slice(i + 1), payload);
  });
  sub.on('pmessage', (pattern: string, _channel: string, message: string) => {
    const topic = topicOfPattern.get(pattern);
    const payload = topic && parse(message);
    if (topic && payload !== undefined) hub.deliverTopicWide(topic, payload);
  });

  // Start without blocking on Redis: a gateway whose Redis is down still serves queries.
  const started = Promise.all([pub.connect().catch(() => {}), sub.connect().catch(() => {})]);
  const firstSync = new Promise<void>((resolve) => {
    const check = () => {
      if (up) resolve();
      else setTimeout(check, 10).unref();
    };
    check();
  });
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), options.connectTimeoutMs ?? 3000).unref());
  if ((await Promise.race([started.then(() => firstSync), timeout])) === 'timeout') {
    everUp = true; // so that the recovery is logged
    log.warn({ transport: 'redis' }, 'pubsub: Redis is unreachable at start; retrying in the background');
  }

  return {
    async publish(topic, key, payload) {
      const message = JSON.stringify(payload);
      if (pub.status !== 'ready') {
        // Redis is away: this instance's own subscribers still hear about it.
        hub.counters.publishFailures++;
        hub.deliver(topic, key, JSON.parse(message));
        return;
      }
      try {
        await pub.publish(channelOf(topic, key), message);
      } catch (err) {
        hub.counters.publishFailures++;
        log.warn({ err: (err as Error).message, topic, key }, 'pubsub: publish to Redis failed');
      }
    },
    subscribe: (topic, key, opts) => hub.subscribe(topic, key, opts),
    health: () => (up ? 'up' : 'down'),
    async ping(timeoutMs) {
      if (!up) return false;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      // Both connections: the subscriber one carries the events (PING is allowed in subscribe mode).
      const answered = Promise.all([pub.ping(), sub.ping()]).then(
        () => true,
        () => false,
      );
      try {
        return await Promise.race([answered, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    stats: () => hub.stats(),
    async close() {
      if (closed) return;
      closed = true;
      hub.close();
      for (const name of [...waiting.keys()]) confirm(name);
      await Promise.all([pub, sub].map((c) => (c.status === 'ready' ? c.quit().catch(() => c.disconnect()) : Promise.resolve(c.disconnect()))));
    },
  };
}

function parse(message: string): unknown {
  try {
    return JSON.parse(message);
  } catch {
    return undefined;
  }
}

const escapeGlob = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');
