import { createClient } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { deferred, until } from './realtime-helpers.ts';
import { miniGateway } from './realtime-mini.ts';
import { rawSocket } from './ws-raw.ts';

type Gw = Awaited<ReturnType<typeof miniGateway>>;
const open: Gw[] = [];
async function gateway(options: Parameters<typeof miniGateway>[0] = {}) {
  const gw = await miniGateway(options);
  open.push(gw);
  return gw;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
});

async function raw(gw: Gw, authorization = 'Bearer ok:60', wsOptions: WebSocket.ClientOptions = {}) {
  const s = await rawSocket(gw.url, wsOptions);
  s.send({ type: 'connection_init', payload: { authorization } });
  await s.take('connection_ack');
  const subscribe = (id: string, modelId: string, size = 0) =>
    s.send({ id, type: 'subscribe', payload: { query: `subscription { progress(modelId: "${modelId}", size: ${size}) }` } });
  return { ...s, subscribe };
}

describe('graphql-ws sockets over time', () => {
  it('closes 4403 when the token expires, unless a ping brings a fresh token of the same client', async () => {
    const gw = await gateway();
    const expiring = await raw(gw, 'Bearer ok:0.3');
    const renewed = await raw(gw, 'Bearer ok:0.3');
    renewed.send({ type: 'ping', payload: { authorization: 'Bearer ok:60' } });
    await renewed.take('pong');
    const hijacked = await raw(gw, 'Bearer ok:60');
    hijacked.send({ type: 'ping', payload: { authorization: 'Bearer ok:someoneelse:60' } });

    expect(await expiring.closed).toEqual({ code: 4403, reason: 'Forbidden: token expired' });
    expect(await hijacked.closed).toMatchObject({ code: 4403 });
    // Well past the first token's expiry, the renewed socket still works.
    renewed.subscribe('r', 'renewed');
    await until(() => gw.pubsub.stats().channels === 1);
    await gw.publish('renewed', 'still here');
    expect((await renewed.take('next')).payload).toEqual({ data: { progress: 'still here' } });
  });

  it('terminates a socket that stops answering pings and releases its subscriptions', async () => {
    const gw = await gateway({ keepAliveMs: 100 });
    const dead = await raw(gw, 'Bearer ok:60', { autoPong: false });
    const alive = await raw(gw);
    dead.subscribe('d', 'dead');
    alive.subscribe('a', 'alive');
    await until(() => gw.pubsub.stats().subscribers === 2);
    expect((await dead.closed).code).toBe(1006); // terminated, no close frame
    await until(() => gw.pubsub.stats().subscribers === 1 && gw.transport.clients === 1);
    await gw.publish('alive', 'ok');
    expect((await alive.take('next')).payload).toEqual({ data: { progress: 'ok' } });
  });

  it('a client that stops reading does not hold up the others, costs a bounded buffer, and is cut off', async () => {
    // Keep-alive slower than the 40 events take even on a loaded machine: the slow client's queues
    // must overflow before keep-alive cuts it off (a 500 ms ping cut it first under load: no drops).
    const gw = await gateway({ keepAliveMs: 3000 });
    const slow = await raw(gw);
    const fast = await raw(gw);
    const size = 256 * 1024;
    for (const id of ['1', '2', '3', '4']) slow.subscribe(id, 'm', size);
    fast.subscribe('f', 'm', size);
    await until(() => gw.pubsub.stats().subscribers === 5);
    const slowSocket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    slowSocket.pause();

    // Paced by the fast client: each event reaches it while the slow one reads nothing.
    const events = 40;
    const received: string[] = [];
    for (let n = 0; n < events; n++) {
      await gw.publish('m', `e${String(n).padStart(7, '0')}`);
      received.push((await fast.take('next')).payload.data.progress.slice(0, 8));
    }
    expect(received).toEqual(Array.from({ length: events }, (_, n) => `e${String(n).padStart(7, '0')}`));
    // Its subscriptions kept at most 16 events each (the mini gateway's buffer), dropping the oldest.
    expect(gw.pubsub.stats().dropped).toBeGreaterThan(0);
    // It cannot answer pings stuck behind unread data: keep-alive terminates it and lets go.
    await until(() => gw.transport.clients === 1 && gw.pubsub.stats().subscribers === 1, 20_000, 'slow client cut off');
    slowSocket.resume();
    expect((await slow.closed).code).toBe(1006);
  });

  it('close() completes running subscriptions, then closes sockets with 1001', async () => {
    const gw = await gateway();
    const closed = deferred<{ code: number; reason: string }>();
    const client = createClient({
      url: gw.url,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false, // a lazy client closes (1000) by itself once its last operation completes
      onNonLazyError: () => {},
      connectionParams: { authorization: 'Bearer ok:60' },
      on: { closed: (e) => closed.resolve(e as { code: number; reason: string }) },
    });
    const completed = deferred();
    const got: unknown[] = [];
    client.subscribe(
      { query: 'subscription { progress(modelId: "s") }' },
      { next: (v) => void got.push(v), error: (e) => completed.reject(e), complete: () => completed.resolve() },
    );
    await until(() => gw.pubsub.stats().subscribers === 1);
    await gw.publish('s', 'one');
    await until(() => got.length === 1);
    await gw.transport.close();
    await completed.promise; // a `complete` message, not an error
    expect(await closed.promise).toMatchObject({ code: 1001 });
    expect(gw.pubsub.stats().subscribers).toBe(0);
    await client.dispose();
  });
});
