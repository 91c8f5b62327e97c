import WebSocket from 'ws';
import { afterEach, expect, test } from 'vitest';
import { TOO_MANY } from '../src/transport/graphql-ws.ts';
import { miniGateway } from './realtime-mini.ts';
import { rawSocket } from './ws-raw.ts';

/**
 * Attack 7 of issue 9: one client held 100 sockets x 100 subscriptions, a burst of failing
 * subscribes stalled /health for 48 s, a token-refresh ping flood for 2.8 s. Per-address,
 * per-client and per-socket budgets.
 */
const gateways: Awaited<ReturnType<typeof miniGateway>>[] = [];
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.close();
});
const start = async (options: Parameters<typeof miniGateway>[0]) => {
  const g = await miniGateway(options);
  gateways.push(g);
  return g;
};

const connected = async (url: string, token = 'Bearer ok:600') => {
  const s = await rawSocket(url);
  s.send({ type: 'connection_init', payload: { authorization: token } });
  return s;
};

test('sockets per address beyond the cap are refused at the upgrade with 429', async () => {
  const g = await start({ maxConnectionsPerSource: 3 });
  const open = await Promise.all([1, 2, 3].map(() => rawSocket(g.url)));
  const refused = await new Promise<number>((resolve) => {
    const ws = new WebSocket(g.url, 'graphql-transport-ws');
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => resolve(101));
  });
  expect(refused).toBe(429);
  // A closed socket frees its place.
  open[0]!.ws.close();
  await open[0]!.closed;
  const again = await rawSocket(g.url);
  expect(again.ws.readyState).toBe(WebSocket.OPEN);
  for (const s of [...open.slice(1), again]) s.ws.close();
});

test('authenticated sockets per client beyond the cap are closed at connection_init', async () => {
  const g = await start({ maxConnectionsPerClient: 2 });
  const a = await connected(g.url);
  await a.take('connection_ack');
  const b = await connected(g.url);
  await b.take('connection_ack');
  const c = await connected(g.url);
  expect((await c.closed).code).toBe(TOO_MANY);
  // Another client is not affected.
  const other = await connected(g.url, 'Bearer ok:other:600');
  await other.take('connection_ack');
  for (const s of [a, b, other]) s.ws.close();
});

test('a ping flood closes the socket once past its budget', async () => {
  const g = await start({ maxPingsPerMinute: 5 });
  const s = await connected(g.url);
  await s.take('connection_ack');
  for (let i = 0; i < 20; i++) s.send({ type: 'ping', payload: { authorization: 'Bearer ok:600' } });
  const closed = await s.closed;
  expect(closed.code).toBe(TOO_MANY);
  expect(closed.reason).toMatch(/at most 5 a minute/);
});

test('a burst of failing subscribes closes the socket once past its budget', async () => {
  const g = await start({ maxSubscribesPerMinute: 10 });
  const s = await connected(g.url);
  await s.take('connection_ack');
  for (let i = 0; i < 50; i++) s.send({ id: String(i), type: 'subscribe', payload: { query: 'subscription { nope }' } });
  const closed = await s.closed;
  expect(closed.code).toBe(TOO_MANY);
});

test('operations per socket are capped', async () => {
  const g = await start({ maxSubscriptionsPerSocket: 3 });
  const s = await connected(g.url);
  await s.take('connection_ack');
  for (let i = 0; i < 5; i++) s.send({ id: String(i), type: 'subscribe', payload: { query: `subscription { progress(modelId: "m${i}") }` } });
  const refused = await s.take((m) => m.type === 'error');
  expect(refused.payload[0].extensions.code).toBe('RATE_LIMITED');
  s.ws.close();
});
