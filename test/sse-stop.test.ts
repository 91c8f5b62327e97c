import http from 'node:http';
import { afterAll, expect, test } from 'vitest';
import { startGateway, type Gateway } from './graph-helpers.ts';
import { deferred, until } from './realtime-helpers.ts';

let g: Gateway | null = null;
afterAll(() => g?.close());

test('stop() completes an open SSE subscription (the client gets `complete`) instead of waiting out the drain timeout', async () => {
  g = await startGateway();
  const { port } = await g.server.start();
  const token = await g.token('read');
  const { pubsub } = g.server.services;
  const before = pubsub.stats().subscribers;

  const stream = deferred<{ how: string; text: string }>();
  let text = '';
  const req = http.request(
    {
      host: '127.0.0.1',
      port,
      path: '/graphql',
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    },
    (res) => {
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => stream.resolve({ how: 'end', text }));
      res.on('aborted', () => stream.resolve({ how: 'aborted', text }));
    },
  );
  req.on('error', (err) => stream.resolve({ how: `error ${err.message}`, text }));
  req.end(JSON.stringify({ query: 'subscription { predictionResults { at } }' }));
  await until(() => pubsub.stats().subscribers > before, 10_000, 'the SSE subscription');
  expect(g.server.subscriptions.size).toBe(1);

  const started = Date.now();
  await g.server.stop();
  const elapsed = Date.now() - started;
  const result = await stream.promise;
  expect(result.how).toBe('end');
  expect(result.text).toContain('event: complete');
  // The default drain timeout is 10 s; an open stream must not hold stop() for it.
  expect(elapsed).toBeLessThan(5000);
  expect(g.server.subscriptions.size).toBe(0);
});

test('a stream the client leaves is no longer held for stop()', async () => {
  const gw = await startGateway();
  try {
    const { port } = await gw.server.start();
    const token = await gw.token('read');
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: '/graphql',
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    });
    req.on('error', () => {});
    req.end(JSON.stringify({ query: 'subscription { trainingProgress { progress } }' }));
    await until(() => gw.server.subscriptions.size === 1, 10_000, 'the SSE subscription');
    req.destroy();
    await until(() => gw.server.subscriptions.size === 0, 10_000, 'the stream to be released');
  } finally {
    await gw.close();
  }
});
