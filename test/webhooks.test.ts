import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logging.ts';
import { createUrlPolicy, isPublicAddress } from '../src/runtime/webhooks/url-policy.ts';
import { createServer, type Server } from '../src/server.ts';
import { partPng } from './inference-fixtures.ts';
import { seedGoldenModel } from './predict-server.ts';
import { startReceiver, type Receiver } from './webhook-receiver.ts';

// Webhooks against real HTTP receivers on 127.0.0.1: signed deliveries, retries while the
// receiver is down, order per webhook, and deliveries that outlive a gateway restart.

interface Gateway {
  server: Server;
  url: string;
  dir: string;
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<{ data: T; errors?: any[] }>;
  stop(): Promise<void>;
}

const FAST_RETRIES = {
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  WEBHOOK_RETRY_BASE_MS: '40',
  WEBHOOK_RETRY_MAX_DELAY_MS: '200',
  WEBHOOK_TIMEOUT_MS: '3000',
};

async function boot(dir: string, env: Record<string, string> = FAST_RETRIES): Promise<Gateway> {
  const config = loadConfig({ DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', EXECUTION_PROVIDER: 'cpu', LOG_LEVEL: 'silent', ...env });
  const server = await createServer(config, { log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
  const { url } = await server.start();
  const { clientId, clientSecret } = await server.services.auth.createClient('all', 'webhook-tests');
  const token = (await server.services.auth.issueToken(clientId, clientSecret)).accessToken;
  return {
    server,
    url,
    dir,
    async gql(query, variables = {}) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return res.json() as Promise<any>;
    },
    stop: () => server.stop(),
  };
}

const dirs: string[] = [];
const freshDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-webhooks-'));
  dirs.push(dir);
  return dir;
};

const CREATE = `mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id url events secret active target { id } } }`;
const PREDICT = `mutation ($modelId: ID!, $itemIds: [ID!]!) { predict(modelId: $modelId, itemIds: $itemIds) { id result item { id } } }`;
const DELIVERIES = `query ($id: ID!) { webhookDeliveries(webhookId: $id, first: 50) { totalCount edges { node { id event status attempts responseCode latencyMs error payload } } } }`;

/** PREDICTION items of the gateway's default target (the golden model's), `n` pictures. */
async function predictionItems(gw: Gateway, n: number): Promise<string[]> {
  const { store } = gw.server.services;
  const target = (await store.defaultTarget())!;
  const bytes = await partPng();
  const { items } = await gw.server.services.items.addUploaded({
    files: Array.from({ length: n }, (_, i) => new File([new Uint8Array(bytes)], `part-${i}.png`, { type: 'image/png' })),
    training: false,
    targetId: target.id,
  });
  return items.map((i) => i.id);
}

const verify = (secret: string, raw: string, header: string | string[] | undefined) => {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
  const got = Buffer.from(String(header));
  return got.length === expected.length && timingSafeEqual(got, expected);
};

let receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
});
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('webhook deliveries', () => {
  let gw: Gateway;
  let modelId: string;

  beforeAll(async () => {
    gw = await boot(freshDir());
    modelId = (await seedGoldenModel(gw as never)).model.id;
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('POSTs each prediction result signed with the secret, with event, delivery id and timestamp headers', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const secret = 'a-shared-secret-of-the-line-0001';
    const { data } = await gw.gql(CREATE, { input: { url: receiver.url, events: ['PREDICTION_RESULT'], secret, description: 'MES line 3' } });
    const hook = data.createWebhook;
    expect(hook).toMatchObject({ url: receiver.url, events: ['PREDICTION_RESULT'], secret, active: true });

    const items = await predictionItems(gw, 2);
    const predicted = (await gw.gql(PREDICT, { modelId, itemIds: items })).data.predict;
    const got = await receiver.waitFor(2);

    for (const d of got) {
      expect(verify(secret, d.raw, d.headers['x-spectro-signature'])).toBe(true);
      expect(verify('another-secret-entirely-000000', d.raw, d.headers['x-spectro-signature'])).toBe(false);
      expect(d.headers['x-spectro-event']).toBe('PREDICTION_RESULT');
      expect(d.headers['content-type']).toBe('application/json');
      expect(d.body).toMatchObject({ id: d.headers['x-spectro-delivery'], event: 'PREDICTION_RESULT', timestamp: Number(d.headers['x-spectro-timestamp']) });
      expect(Math.abs(d.body.timestamp - Date.now() / 1000)).toBeLessThan(60);
      expect(d.body.data).toMatchObject({
        target: { target_id: expect.any(Number), name: expect.any(String) },
        model: { model_id: modelId },
        item: { item_id: expect.any(String), name: expect.stringMatching(/^part-\d\.png$/) },
        assessment: { result: expect.stringMatching(/^(GOOD|BAD)$/), score: expect.any(Number), threshold: expect.any(Number), boxes: expect.any(Array) },
      });
    }
    expect(new Set(got.map((d) => d.headers['x-spectro-delivery'])).size).toBe(2);
    expect(got.map((d) => d.body.data.assessment.assessment_id)).toEqual(predicted.map((a: any) => a.id));

    const deliveries = (await gw.gql(DELIVERIES, { id: hook.id })).data.webhookDeliveries;
    expect(deliveries.totalCount).toBe(2);
    for (const { node } of deliveries.edges) {
      expect(node).toMatchObject({ event: 'PREDICTION_RESULT', status: 'SUCCEEDED', attempts: 1, responseCode: 200, error: null });
      expect(node.latencyMs).toBeGreaterThanOrEqual(0);
    }

    // A redelivery is a new delivery (its own id) of the same event.
    const first = deliveries.edges.at(-1).node;
    const again = (await gw.gql(`mutation ($id: ID!) { redeliverWebhook(deliveryId: $id) { id status } }`, { id: first.id })).data.redeliverWebhook;
    expect(again.id).not.toBe(first.id);
    const [, , third] = await receiver.waitFor(3);
    expect(third!.headers['x-spectro-delivery']).toBe(again.id);
    expect(third!.body.data).toEqual(JSON.parse(first.payload));
    await gw.gql(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('retries while the receiver is down, then delivers everything in order', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    receiver.mode = 'down';
    const hook = (await gw.gql(CREATE, { input: { url: receiver.url, events: ['PREDICTION_RESULT'] } })).data.createWebhook;
    const items = await predictionItems(gw, 3);
    for (const id of items) await gw.gql(PREDICT, { modelId, itemIds: [id] });
    // The first delivery is refused again and again; the others wait behind it.
    await receiver.waitForRefused(4);
    const waiting = (await gw.gql(DELIVERIES, { id: hook.id })).data.webhookDeliveries.edges.map((e: any) => e.node);
    expect(waiting.every((d: any) => d.status === 'PENDING')).toBe(true);
    expect(waiting.at(-1)).toMatchObject({ responseCode: 503, error: 'HTTP 503: down for maintenance' });
    expect(waiting.at(-1).attempts).toBeGreaterThanOrEqual(4);
    expect(waiting.slice(0, -1).every((d: any) => d.attempts === 0)).toBe(true);

    receiver.mode = 'up';
    const got = await receiver.waitFor(3);
    expect(got.map((d) => d.body.data.item.item_id)).toEqual(items);
    const done = (await gw.gql(DELIVERIES, { id: hook.id })).data.webhookDeliveries.edges.map((e: any) => e.node);
    expect(done.map((d: any) => d.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    await gw.gql(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('does not slow predictions when the receiver never answers', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    receiver.mode = 'hang';
    const hook = (await gw.gql(CREATE, { input: { url: receiver.url, events: ['PREDICTION_RESULT'] } })).data.createWebhook;
    const first = await predictionItems(gw, 1);
    await gw.gql(PREDICT, { modelId, itemIds: first });
    await receiver.waitForRefused(1);
    // The receiver holds the first delivery open: predictions go on regardless.
    const more = await predictionItems(gw, 4);
    const { data } = await gw.gql(PREDICT, { modelId, itemIds: more });
    expect(data.predict).toHaveLength(4);
    const pending = (await gw.gql(DELIVERIES, { id: hook.id })).data.webhookDeliveries;
    expect(pending.totalCount).toBe(5);
    expect(pending.edges.every((e: any) => e.node.status === 'PENDING')).toBe(true);
    await gw.gql(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('tells MODEL_ACTIVATED, and only to the webhooks of that target', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const target = (await gw.server.services.store.defaultTarget())!;
    const other = await gw.server.services.targets.create('elsewhere');
    const mine = (await gw.gql(CREATE, { input: { url: receiver.url, events: ['MODEL_ACTIVATED'], targetId: target.id } })).data.createWebhook;
    const theirs = (await gw.gql(CREATE, { input: { url: receiver.url, events: ['MODEL_ACTIVATED'], targetId: other.id } })).data.createWebhook;
    expect((await gw.gql(`query ($t: ID) { webhooks(targetId: $t) { id } }`, { t: target.id })).data.webhooks).toEqual([{ id: mine.id }]);
    await gw.gql(`mutation ($id: ID!) { activateModel(id: $id) { id } }`, { id: modelId });
    const [got] = await receiver.waitFor(1);
    expect(got!.headers['x-spectro-event']).toBe('MODEL_ACTIVATED');
    expect(got!.body.data).toMatchObject({ target: { target_id: target.key }, model: { model_id: modelId, active: true, status: 'READY' } });
    expect((await gw.gql(DELIVERIES, { id: theirs.id })).data.webhookDeliveries.totalCount).toBe(0);
    for (const id of [mine.id, theirs.id]) await gw.gql(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id });
  });

  it('refuses a redirect to an address outside WEBHOOK_ALLOWED_HOSTS', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    receiver.redirectTo = `http://[::1]:${receiver.port}/elsewhere`;
    const hook = (await gw.gql(CREATE, { input: { url: receiver.url, events: ['PREDICTION_RESULT'] } })).data.createWebhook;
    await gw.gql(PREDICT, { modelId, itemIds: await predictionItems(gw, 1) });
    // Each attempt is redirected and refused; the second one starts after the first was recorded.
    await receiver.waitForRefused(2);
    const redirected = Promise.resolve((await gw.gql(DELIVERIES, { id: hook.id })).data.webhookDeliveries.edges[0].node);
    const d = await redirected;
    expect(d.status).toBe('PENDING');
    expect(d.error).toMatch(/^redirect to http:\/\/\[::1\]:\d+\/elsewhere refused: ::1 is not an address WEBHOOK_ALLOWED_HOSTS allows/);
    await gw.gql(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id });
  });

  it('checks the URL when a webhook is saved, names what is wrong, and updates and deletes', async () => {
    const bad = async (input: Record<string, unknown>): Promise<any> =>
      (await gw.gql(CREATE, { input: { events: ['PREDICTION_RESULT'], ...input } })).errors?.[0];
    expect(await bad({ url: 'ftp://127.0.0.1/x' })).toMatchObject({
      message: 'url must be http:// or https://, got ftp:',
      extensions: { code: 'BAD_USER_INPUT', argument: 'url' },
    });
    expect((await bad({ url: 'http://10.1.2.3/hook' })).message).toBe('url 10.1.2.3 is not an address WEBHOOK_ALLOWED_HOSTS allows');
    expect((await bad({ url: 'http://127.0.0.1/x', secret: 'short' })).extensions.argument).toBe('secret');
    expect((await gw.gql(CREATE, { input: { url: 'http://127.0.0.1/x', events: [] } })).errors![0].extensions.argument).toBe('events');

    const hook = (await gw.gql(CREATE, { input: { url: 'http://127.0.0.1:9/x', events: ['PREDICTION_RESULT'] } })).data.createWebhook;
    expect(hook.secret).toHaveLength(43);
    const updated = await gw.gql(`mutation ($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { events active description } }`, {
      id: hook.id,
      input: { events: ['TRAINING_FINISHED', 'MODEL_ACTIVATED'], active: false, description: 'paused' },
    });
    expect(updated.data.updateWebhook).toEqual({ events: ['TRAINING_FINISHED', 'MODEL_ACTIVATED'], active: false, description: 'paused' });
    expect((await gw.gql(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id })).data.deleteWebhook).toBe(hook.id);
    expect((await gw.gql(`mutation ($id: ID!) { deleteWebhook(id: $id) }`, { id: hook.id })).errors![0].extensions.code).toBe('NOT_FOUND');
  });
});

describe('webhook deliveries across a restart', () => {
  it('sends what was pending when the gateway stopped, in order, once it runs again', async () => {
    const dir = freshDir();
    const receiver = await startReceiver();
    receivers.push(receiver);
    receiver.mode = 'down';
    let gw = await boot(dir, { ...FAST_RETRIES, WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_RETRY_MAX_DELAY_MS: '300' });
    const { model } = await seedGoldenModel(gw as never);
    const hook = (await gw.gql(CREATE, { input: { url: receiver.url, events: ['PREDICTION_RESULT'] } })).data.createWebhook;
    const items = await predictionItems(gw, 3);
    for (const id of items) await gw.gql(PREDICT, { modelId: model.id, itemIds: [id] });
    await receiver.waitForRefused(2);
    await gw.stop();

    receiver.mode = 'up';
    gw = await boot(dir);
    try {
      const got = await receiver.waitFor(3);
      expect(got.map((d) => d.body.data.item.item_id)).toEqual(items);
      expect(new Set(got.map((d) => d.headers['x-spectro-delivery'])).size).toBe(3);
      const done = (await gw.gql(DELIVERIES, { id: hook.id })).data.webhookDeliveries.edges.map((e: any) => e.node.status);
      expect(done).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    } finally {
      await gw.stop();
    }
  });
});

describe('the address policy', () => {
  it('allows only public addresses by default, and what WEBHOOK_ALLOWED_HOSTS names', async () => {
    const byDefault = createUrlPolicy(['public']);
    for (const internal of [
      '127.0.0.1',
      '10.0.0.8',
      '192.168.1.20',
      '172.16.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '0.0.0.0',
    ]) {
      expect(byDefault.allows('x', internal), internal).toBe(false);
    }
    expect(byDefault.allows('x', '93.184.216.34')).toBe(true);
    expect(isPublicAddress('2606:4700::1111')).toBe(true);
    expect(await byDefault.check('http://localhost:8080/')).toMatch(/^localhost resolves to .*127\.0\.0\.1.*, which WEBHOOK_ALLOWED_HOSTS does not allow$/);

    const plant = createUrlPolicy(['10.20.0.0/16', 'mes.plant.local', '*.line.local', '192.168.5.7']);
    expect(plant.allows('10.20.3.4', '10.20.3.4')).toBe(true);
    expect(plant.allows('10.21.0.1', '10.21.0.1')).toBe(false);
    expect(plant.allows('mes.plant.local', '10.99.0.1')).toBe(true);
    expect(plant.allows('plc.line.local', '10.99.0.2')).toBe(true);
    expect(plant.allows('192.168.5.7', '192.168.5.7')).toBe(true);
    expect(plant.allows('example.com', '93.184.216.34')).toBe(false);
    expect(() => createUrlPolicy(['not a host/99'])).toThrow(/WEBHOOK_ALLOWED_HOSTS/);
  });
});
