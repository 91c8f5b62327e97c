import http from 'node:http';
import { afterAll, expect, test } from 'vitest';
import { createAuth } from '../src/runtime/auth/auth.ts';
import { startGateway, type Gateway } from './graph-helpers.ts';
import { deferred, until } from './realtime-helpers.ts';
import { rawSocket } from './ws-raw.ts';

let g: Gateway | null = null;
afterAll(() => g?.close());

/** POSTs a subscription asking for an event stream; `onResponse` reads it. */
function sseRequest(port: number, token: string, query: string, onResponse?: (res: http.IncomingMessage) => void) {
  const req = http.request(
    {
      host: '127.0.0.1',
      port,
      path: '/graphql',
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    },
    onResponse,
  );
  req.end(JSON.stringify({ query }));
  return req;
}

test('stop() completes an open SSE subscription (the client gets `complete`) instead of waiting out the drain timeout', async () => {
  g = await startGateway();
  const { port } = await g.server.start();
  const token = await g.token('read');
  const { pubsub } = g.server.services;
  const before = pubsub.stats().subscribers;

  const stream = deferred<{ how: string; text: string }>();
  let text = '';
  const req = sseRequest(port, token, 'subscription { predictionResults { at } }', (res) => {
    res.setEncoding('utf8');
    res.on('data', (c) => (text += c));
    res.on('end', () => stream.resolve({ how: 'end', text }));
    res.on('aborted', () => stream.resolve({ how: 'aborted', text }));
  });
  req.on('error', (err) => stream.resolve({ how: `error ${err.message}`, text }));
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
    const req = sseRequest(port, token, 'subscription { trainingProgress { progress } }');
    req.on('error', () => {});
    await until(() => gw.server.subscriptions.size === 1, 10_000, 'the SSE subscription');
    req.destroy();
    await until(() => gw.server.subscriptions.size === 0, 10_000, 'the stream to be released');
  } finally {
    await gw.close();
  }
});

test('an SSE subscription ends with UNAUTHENTICATED when its token expires; a renewed graphql-ws socket keeps going', async () => {
  const gw = await startGateway();
  try {
    const { port } = await gw.server.start();
    // Tokens that expire in 2 s, signed with the gateway's key.
    const shortLived = await createAuth({ store: gw.server.services.store, config: { ...gw.config, tokenTtlSeconds: 2 } });
    const { clientId, clientSecret } = await shortLived.createClient('read');
    const shortToken = async () => (await shortLived.issueToken(clientId, clientSecret)).accessToken;

    const sse = deferred<string>();
    let text = '';
    sseRequest(port, await shortToken(), 'subscription { trainingProgress { progress } }', (res) => {
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => sse.resolve(text));
    });

    // A socket that renews its token by ping keeps its operation past the first token's expiry.
    const ws = await rawSocket(`ws://127.0.0.1:${port}/graphql`);
    ws.send({ type: 'connection_init', payload: { authorization: `Bearer ${await shortToken()}` } });
    await ws.take('connection_ack');
    ws.send({ id: 'w', type: 'subscribe', payload: { query: 'subscription { trainingProgress { stage } }' } });
    await until(() => gw.server.subscriptions.size === 2, 10_000, 'both subscriptions');
    // The same client's token from the gateway's own auth lives an hour.
    const renewed = (await gw.server.services.auth.issueToken(clientId, clientSecret)).accessToken;
    ws.send({ type: 'ping', payload: { authorization: `Bearer ${renewed}` } });
    await ws.take('pong');

    const ended = await sse.promise;
    expect(ended).toContain('"code":"UNAUTHENTICATED"');
    expect(ended).toContain('event: complete');
    // The SSE stream was released; the socket's operation, past its first token's expiry, still delivers.
    expect(gw.server.subscriptions.size).toBe(1);
    await gw.server.services.pubsub.publish('trainingProgress', 'm', {
      modelId: 'm',
      progress: 0.5,
      stage: 'fit',
      status: 'TRAINING',
      message: null,
      at: new Date().toISOString(),
    });
    await ws.take((m) => m.id === 'w' && m.type === 'next');
    ws.ws.close(1000);
  } finally {
    await gw.close();
  }
});
