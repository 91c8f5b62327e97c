import mqtt, { type MqttClient } from 'mqtt';
import type { IntegrationConfig } from '../../config.ts';
import { currentLog, type Logger } from '../../logging.ts';
import type { IntegrationEvents } from '../events/events.ts';
import { WebhookEvent } from '../store/types.ts';
import type { MqttPublisher } from './mqtt.ts';

export type { MqttPublisher } from './mqtt.ts';

/** A topic level from a target name: MQTT's separators and wildcards cannot appear in it. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the characters a topic level cannot hold
export const topicLevel = (name: string) => name.replace(/[/+#\u0000]/g, '_') || '_';

export const topicFor = (prefix: string, targetName: string, event: string) =>
  `${prefix}/${topicLevel(targetName)}/${event === WebhookEvent.PREDICTION_RESULT ? 'results' : 'models'}`;

interface Message {
  topic: string;
  payload: string;
}

export function createMqttPublisher(deps: { config: IntegrationConfig; events: IntegrationEvents; log: Logger; clientId?: string }): MqttPublisher | null {
  const { config, log } = deps;
  if (!config.mqttUrl) return null;
  const client: MqttClient = mqtt.connect(config.mqttUrl, {
    clientId: deps.clientId ?? `spectro-gateway-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    // Our own bounded backlog holds what waits for the broker; mqtt.js keeps only what is in flight.
    queueQoSZero: false,
  });
  const backlog: Message[] = [];
  let dropped = 0;
  let published = 0;
  let flushing = false;
  let handled = 0;
  const handledWaiters: { count: number; resolve: () => void }[] = [];

  const send = (m: Message) => new Promise<void>((resolve, reject) => client.publish(m.topic, m.payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())));

  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      while (backlog.length > 0 && client.connected) {
        const m = backlog[0]!;
        try {
          await send(m);
          backlog.shift();
          published++;
        } catch (err) {
          // The connection went while it was sent: it stays first in line for the next connect.
          currentLog(log).debug({ err, topic: m.topic }, 'mqtt: publish interrupted');
          return;
        }
      }
    } finally {
      flushing = false;
    }
  }

  client.on('connect', () => {
    currentLog(log).info({ url: redact(config.mqttUrl!), backlog: backlog.length }, 'mqtt: connected');
    void flush();
  });
  client.on('offline', () => currentLog(log).warn({ backlog: backlog.length }, 'mqtt: broker unreachable, buffering'));
  client.on('error', (err) => currentLog(log).warn({ err }, 'mqtt: error'));

  deps.events.on(async (event) => {
    const [target, data] = await Promise.all([event.target(), event.data()]);
    if (!target || !data) return;
    const payload = JSON.stringify({ event: event.event, event_id: event.key, timestamp: Math.floor(Date.parse(event.at) / 1000), data });
    backlog.push({ topic: topicFor(config.mqttTopicPrefix, target.name, event.event), payload });
    while (backlog.length > config.mqttBacklog) {
      backlog.shift();
      dropped++;
    }
    handled++;
    for (const w of handledWaiters.filter((w) => handled >= w.count)) {
      handledWaiters.splice(handledWaiters.indexOf(w), 1);
      w.resolve();
    }
    void flush();
  });

  return {
    status: () => ({ connected: client.connected, backlog: backlog.length, dropped, published, handled }),
    whenHandled: (count) => new Promise<void>((resolve) => (handled >= count ? resolve() : handledWaiters.push({ count, resolve }))),
    whenConnected: (want) =>
      new Promise<void>((resolve) => {
        if (client.connected === want) return resolve();
        const event = want ? 'connect' : 'close';
        client.once(event, () => resolve());
      }),
    async close() {
      // Waits for messages in flight; a broker that does not answer gets 2 s.
      const graceful = client.endAsync(false).catch(() => undefined);
      const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 2000).unref());
      if ((await Promise.race([graceful, timer])) === 'late') await client.endAsync(true).catch(() => undefined);
    },
  };
}

const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');
