import type { PubSubStats, SubscribeOptions, Subscription } from './pubsub.ts';
import { BoundedQueue } from './queue.ts';
import { type TopicName, topicOverflowPolicy } from './topics.ts';

export const DEFAULT_BUFFER_SIZE = 1024;

/** How a transport learns that the first local subscriber of a channel arrived / the last left. */
export interface HubTransport {
  /** Returns when the transport delivers the channel (never rejects). */
  acquire(topic: TopicName, key: string | null): Promise<void>;
  release(topic: TopicName, key: string | null): void;
}

interface Channel {
  subs: Set<BoundedQueue<unknown>>;
  ready: Promise<void>;
  acked: boolean;
}

/**
 * Local fan-out shared by both transports: reference-counts channels (keyed and topic-wide) so
 * the transport holds one upstream subscription per channel whatever the number of subscribers.
 */
export class Hub {
  readonly #keyed = new Map<string, Channel>();
  readonly #topicWide = new Map<TopicName, Channel>();
  #subscribers = 0;
  #closed = false;
  readonly counters = { dropped: 0, overflowed: 0, publishFailures: 0 };

  private readonly transport: HubTransport;

  constructor(transport: HubTransport) {
    this.transport = transport;
  }

  subscribe<T>(topic: TopicName, key: string | null | undefined, options: SubscribeOptions = {}): Subscription<T> {
    const k = key ?? null;
    const map = k === null ? this.#topicWide : this.#keyed;
    const id = k === null ? topic : channelId(topic, k);
    let channel = (map as Map<string, Channel>).get(id);
    if (!channel) {
      const c: Channel = { subs: new Set(), ready: Promise.resolve(), acked: false };
      (map as Map<string, Channel>).set(id, c);
      c.ready = (this.#closed ? Promise.resolve() : this.transport.acquire(topic, k)).then(() => {
        c.acked = true;
      });
      channel = c;
    }
    const ch = channel;
    const queue: BoundedQueue<unknown> = new BoundedQueue(
      options.bufferSize ?? DEFAULT_BUFFER_SIZE,
      options.overflow ?? topicOverflowPolicy[topic],
      () => {
        this.#subscribers--;
        ch.subs.delete(queue);
        if (ch.subs.size === 0 && (map as Map<string, Channel>).get(id) === ch) {
          (map as Map<string, Channel>).delete(id);
          this.transport.release(topic, k);
        }
      },
      ch.ready,
      (policy) => {
        if (policy === 'drop-oldest') this.counters.dropped++;
        else this.counters.overflowed++;
      },
    );
    this.#subscribers++;
    ch.subs.add(queue);
    if (this.#closed) queue.end();
    return queue as Subscription<T>;
  }

  /** Delivers to the subscribers of one channel only (Redis: a SUBSCRIBE message). */
  deliverKeyed(topic: TopicName, key: string, payload: unknown) {
    const ch = this.#keyed.get(channelId(topic, key));
    if (ch) for (const q of ch.subs) q.push(payload);
  }

  /** Delivers to key-less subscribers of the topic (Redis: a PSUBSCRIBE message). */
  deliverTopicWide(topic: TopicName, payload: unknown) {
    const ch = this.#topicWide.get(topic);
    if (ch) for (const q of ch.subs) q.push(payload);
  }

  deliver(topic: TopicName, key: string, payload: unknown) {
    this.deliverKeyed(topic, key, payload);
    this.deliverTopicWide(topic, payload);
  }

  /** Channels currently held, for the transport to re-establish after a reconnect. */
  held(): { keyed: [TopicName, string][]; topicWide: TopicName[] } {
    const keyed: [TopicName, string][] = [];
    for (const id of this.#keyed.keys()) {
      const i = id.indexOf('\u0000');
      keyed.push([id.slice(0, i) as TopicName, id.slice(i + 1)]);
    }
    return { keyed, topicWide: [...this.#topicWide.keys()] };
  }

  stats(): PubSubStats {
    return {
      subscribers: this.#subscribers,
      channels: this.#keyed.size,
      patterns: this.#topicWide.size,
      pending: [...this.#keyed.values(), ...this.#topicWide.values()].filter((c) => !c.acked).length,
      ...this.counters,
    };
  }

  /** Ends every open subscription; later subscriptions end at once. */
  close() {
    this.#closed = true;
    const all = [...this.#keyed.values(), ...this.#topicWide.values()].flatMap((c) => [...c.subs]);
    for (const q of all) q.end();
  }
}

const channelId = (topic: TopicName, key: string) => `${topic}\u0000${key}`;
