import { randomUUID } from 'node:crypto';
import net from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partPng } from './inference-fixtures.ts';
import { seedGoldenModel, startServer, type TestServer } from './predict-server.ts';

// MQTT against the local Mosquitto (127.0.0.1:1883, or TEST_MQTT_URL). Each run uses targets
// with unique names, so its topics (spectro/<target name>/...) are its own. The gateway reaches
// the broker through a TCP relay the test can cut, to show reconnects and the bounded backlog.

const BROKER = new URL(process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883');

/** A TCP relay to the broker; `cut()` drops every connection and stops listening, `restore()` listens again. */
async function relay() {
  const sockets = new Set<net.Socket>();
  const serve = () =>
    net.createServer((client) => {
      const upstream = net.connect(Number(BROKER.port || 1883), BROKER.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
  let server = serve();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async cut() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async restore() {
      server = serve();
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    close: () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())).then(() => sockets.forEach((s) => s.destroy())),
  };
}

interface Message {
  topic: string;
  body: any;
}

/** A subscriber of `filter`; `next(n)` resolves with the first n messages. */
async function subscriber(filter: string) {
  const client: MqttClient = await mqtt.connectAsync(BROKER.toString(), { clientId: `spectro-test-${randomUUID()}` });
  await client.subscribeAsync(filter, { qos: 1 });
  const messages: Message[] = [];
  const waiters: { n: number; resolve: (m: Message[]) => void }[] = [];
  client.on('message', (topic, payload, packet) => {
    expect(packet.qos).toBe(1);
    messages.push({ topic, body: JSON.parse(payload.toString('utf8')) });
    for (const w of [...waiters]) if (messages.length >= w.n) waiters.splice(waiters.indexOf(w), 1), w.resolve(messages.slice(0, w.n));
  });
  return {
    messages,
    next: (n: number) => new Promise<Message[]>((resolve) => (messages.length >= n ? resolve(messages.slice(0, n)) : waiters.push({ n, resolve }))),
    close: () => client.endAsync(),
  };
}

let broker: Awaited<ReturnType<typeof relay>>;
let srv: TestServer;
let modelId: string;
let targetName: string;

async function predictPictures(n: number) {
  const { services } = srv.server;
  const target = (await services.store.defaultTarget())!;
  const bytes = await partPng();
  const { items } = await services.items.addUploaded({
    files: Array.from({ length: n }, (_, i) => new File([new Uint8Array(bytes)], `cam-${i}.png`, { type: 'image/png' })),
    training: false,
    targetId: target.id,
  });
  await services.predictions.predict(
    modelId,
    items.map((i) => i.id),
  );
  return items.map((i) => i.id);
}

const connected = (want: boolean) => srv.server.services.mqtt!.whenConnected(want);

beforeAll(async () => {
  broker = await relay();
  srv = await startServer({ MQTT_URL: broker.url, MQTT_BACKLOG: '3' });
  targetName = `line-${randomUUID()}`;
  await srv.server.services.store.createTarget(targetName, []);
  modelId = (await seedGoldenModel(srv)).model.id;
  await connected(true);
});

afterAll(async () => {
  await srv?.stop();
  await broker?.close();
});

describe('MQTT', () => {
  it('publishes every prediction result to spectro/<target>/results as JSON with QoS 1', async () => {
    const sub = await subscriber(`spectro/${targetName}/#`);
    try {
      const items = await predictPictures(2);
      const got = await sub.next(2);
      expect(got.map((m) => m.topic)).toEqual([`spectro/${targetName}/results`, `spectro/${targetName}/results`]);
      expect(got.map((m) => m.body.data.item.item_id)).toEqual(items);
      for (const m of got) {
        expect(m.body).toMatchObject({ event: 'PREDICTION_RESULT', event_id: expect.stringMatching(/^prediction:/), timestamp: expect.any(Number) });
        expect(m.body.data).toMatchObject({
          target: { name: targetName, target_id: expect.any(Number) },
          model: { model_id: modelId },
          assessment: { result: expect.stringMatching(/^(GOOD|BAD)$/), score: expect.any(Number), boxes: expect.any(Array) },
        });
      }

      await srv.server.services.models.activate(modelId);
      const [, , activated] = await sub.next(3);
      expect(activated).toMatchObject({
        topic: `spectro/${targetName}/models`,
        body: { event: 'MODEL_ACTIVATED', data: { model: { model_id: modelId, active: true } } },
      });
    } finally {
      await sub.close();
    }
  });

  it('keeps a bounded backlog while the broker is away and sends it once it is back', async () => {
    const sub = await subscriber(`spectro/${targetName}/results`);
    try {
      await broker.cut();
      await connected(false);
      const before = srv.server.services.mqtt!.status().handled;
      const items = await predictPictures(5);
      await srv.server.services.mqtt!.whenHandled(before + 5);
      // MQTT_BACKLOG=3: the two oldest results were dropped, the three newest wait.
      expect(srv.server.services.mqtt!.status()).toMatchObject({ connected: false, backlog: 3, dropped: 2 });
      await broker.restore();
      const got = await sub.next(3);
      expect(got.map((m) => m.body.data.item.item_id)).toEqual(items.slice(2));
      expect(srv.server.services.mqtt!.status()).toMatchObject({ connected: true, dropped: 2 });
    } finally {
      await sub.close();
    }
  });
});
