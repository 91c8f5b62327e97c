import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { deferred, until } from './realtime-helpers.ts';
import { miniGateway } from './realtime-mini.ts';
import { rawSocket } from './ws-raw.ts';

let gw: Awaited<ReturnType<typeof miniGateway>>;
beforeAll(async () => {
  gw = await miniGateway({ connectionInitWaitTimeoutMs: 200 });
});
afterAll(() => gw.close());

/** A raw graphql-transport-ws socket, to break the protocol on purpose. */
async function raw() {
  const s = await rawSocket(gw.url);
  const init = async (authorization = 'Bearer ok:60') => {
    s.send({ type: 'connection_init', payload: { authorization } });
    return s.take('connection_ack');
  };
  return { ...s, next: s.take, init };
}

const subscribe = (id: string, modelId = 'm') => ({
  id,
  type: 'subscribe',
  payload: { query: `subscription { progress(modelId: "${modelId}") }` },
});

describe('graphql-ws protocol conformance', () => {
  it('closes 4400 on an invalid message', async () => {
    const c = await raw();
    await c.init();
    c.send('{"type":"no such thing"}');
    expect(await c.closed).toMatchObject({ code: 4400 });
    const d = await raw();
    d.send('not json');
    expect((await d.closed).code).toBe(4400);
  });

  it('closes 4401 on a subscribe before connection_ack', async () => {
    const c = await raw();
    c.send(subscribe('1'));
    expect(await c.closed).toMatchObject({ code: 4401, reason: 'Unauthorized' });
  });

  it('closes 4408 when connection_init does not come in time', async () => {
    const c = await raw();
    expect(await c.closed).toMatchObject({ code: 4408, reason: 'Connection initialisation timeout' });
  });

  it('closes 4409 on a second subscribe with an id in use', async () => {
    const c = await raw();
    await c.init();
    c.send(subscribe('dup'));
    c.send(subscribe('dup'));
    expect(await c.closed).toMatchObject({ code: 4409, reason: 'Subscriber for dup already exists' });
  });

  it('closes 4429 on a second connection_init', async () => {
    const c = await raw();
    await c.init();
    c.send({ type: 'connection_init', payload: { authorization: 'Bearer ok:60' } });
    expect(await c.closed).toMatchObject({ code: 4429, reason: 'Too many initialisation requests' });
  });

  it('closes 4403 without a token or with a bad one (graphql-ws client)', async () => {
    for (const connectionParams of [{}, { authorization: 'Bearer forged' }]) {
      const closed = deferred<{ code: number; reason: string }>();
      const client = createClient({
        url: gw.url,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
        connectionParams,
        on: { closed: (e) => closed.resolve(e as { code: number; reason: string }) },
        onNonLazyError: () => {},
      });
      expect(await closed.promise).toMatchObject({ code: 4403, reason: 'Forbidden' });
      await client.dispose();
    }
  });

  it('answers pings with pongs, and a valid socket keeps working after one', async () => {
    const c = await raw();
    await c.init();
    c.send({ type: 'ping' });
    expect(await c.next('pong')).toMatchObject({ type: 'pong' });
    c.send(subscribe('a', 'pp'));
    // The protocol has no "subscribed" ack: wait until the server holds the channel.
    await until(() => gw.pubsub.stats().channels === 1);
    await gw.publish('pp', 'hello');
    expect(await c.next('next')).toMatchObject({ id: 'a', payload: { data: { progress: 'hello' } } });
    c.send({ id: 'a', type: 'complete' });
    c.ws.close(1000);
    expect((await c.closed).code).toBe(1000);
  });
});
