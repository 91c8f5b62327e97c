import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { record, startCluster } from './realtime-cluster.ts';
import { channels, collectGarbage, REDIS_URL, until } from './realtime-helpers.ts';
import { newModel } from './model-fixtures.ts';

type Cluster = Awaited<ReturnType<typeof startCluster>>;
let cl: Cluster;
const admin = new Redis(REDIS_URL);
const modelIds: string[] = [];
let targetId = '';

beforeAll(async () => {
  // 2,000 subscribes on one socket and 21 sockets of one client in a minute: far past the default budgets.
  cl = await startCluster({ WS_MAX_SUBSCRIBES_PER_MINUTE: '100000', WS_MAX_CONNECTIONS_PER_CLIENT: '1000' }, 1);
  const { store } = cl.a.server.services;
  const target = await store.createTarget('leaks', []);
  targetId = target.id;
  await store.syncAlgorithms([{ id: 'leak-test', name: 'Leak test', version: '1', type: 't', attribute: 't', description: 't', parameters: [] }]);
  for (let i = 0; i < 5; i++) {
    const m = await store.createModel(newModel({ name: `m${i}`, algorithmId: 'leak-test', targetId: target.id, status: 'TRAINING', okImageCount: 0 }));
    modelIds.push(m.id);
  }
});
afterAll(async () => {
  await cl?.close();
  await admin.quit();
});

it('thousands of graphql-ws subscribe/unsubscribe cycles leave no channels, subscribers, sockets or heap behind', async () => {
  const { pubsub } = cl.a.server.services;
  const ws = cl.a.server.ws;
  const client = cl.client(cl.a);
  const queries = [
    (i: number) => ({ query: 'subscription ($m: ID) { predictionResults(modelId: $m) { item { id } } }', variables: { m: modelIds[i % 5] } }),
    (i: number) => ({ query: 'subscription ($m: ID) { trainingProgress(modelId: $m) { progress } }', variables: { m: modelIds[i % 5] } }),
    () => ({ query: 'subscription ($t: ID) { predictionResults(targetId: $t) { item { id } } }', variables: { t: targetId } }),
    () => ({ query: 'subscription { trainingProgress { progress } }', variables: {} }),
  ];
  // The socket itself is part of the baseline; so is what the engines subscribe to.
  await until(() => ws.clients === 1);
  const baseline = { stats: pubsub.stats(), channels: (await channels(admin, `${cl.prefix}*`)).sort() };

  const batch = async (round: number, size = 25) => {
    const subs = Array.from({ length: size }, (_, i) => {
      const { query, variables } = queries[(round + i) % queries.length]!(round + i);
      return record(client, query, variables);
    });
    await until(() => pubsub.stats().subscribers === baseline.stats.subscribers + size, 10_000, 'subscribed');
    for (const s of subs) s.stop();
    await until(() => pubsub.stats().subscribers === baseline.stats.subscribers, 10_000, 'unsubscribed');
  };
  /** Whole sockets too: connect, subscribe, go away without unsubscribing. */
  const sockets = async (n: number) => {
    const cs = Array.from({ length: n }, () => cl.client(cl.a));
    cs.forEach((c, i) => record(c, queries[0]!(i).query, queries[0]!(i).variables));
    await until(() => pubsub.stats().subscribers === baseline.stats.subscribers + n, 10_000, 'sockets subscribed');
    await Promise.all(cs.map((c) => c.dispose()));
    await until(() => pubsub.stats().subscribers === baseline.stats.subscribers && ws.clients === 1, 10_000, 'sockets gone');
  };

  for (let r = 0; r < 10; r++) await batch(r);
  await sockets(20);
  const heapBefore = await collectGarbage();
  for (let r = 0; r < 80; r++) await batch(r); // 2,000 subscriptions
  for (let r = 0; r < 5; r++) await sockets(20); // 100 sockets
  const heapAfter = await collectGarbage();

  expect(pubsub.stats()).toEqual(baseline.stats);
  expect(ws.clients).toBe(1);
  // Redis has processed every UNSUBSCRIBE (they were written before, on the subscriber connection).
  await until(async () => JSON.stringify((await channels(admin, `${cl.prefix}*`)).sort()) === JSON.stringify(baseline.channels));
  expect(baseline.channels.filter((c) => modelIds.some((m) => c.endsWith(m)))).toEqual([]);
  // Loose: tracks growth per subscription (a leak of ~1 KB each would be 2 MB), not GC noise.
  expect(heapAfter - heapBefore).toBeLessThan(4 * 1024 * 1024);
});
