import { afterAll, beforeAll, expect, it } from 'vitest';
import { record, startCluster, subscribed, subscribers } from './realtime-cluster.ts';
import { redisProxy, until } from './realtime-helpers.ts';

let proxy: Awaited<ReturnType<typeof redisProxy>>;
let cl: Awaited<ReturnType<typeof startCluster>>;
beforeAll(async () => {
  proxy = await redisProxy();
  cl = await startCluster({ REDIS_URL: proxy.url });
});
afterAll(async () => {
  await cl?.close();
  await proxy?.close();
});

it('while Redis is away: queries work, /readiness says 503, and subscriptions resume by themselves', async () => {
  const query = 'subscription { trainingProgress { progress stage } }';
  const before = subscribers(cl.b);
  const sub = record(cl.client(cl.b), query);
  await subscribed(cl.b, before);
  const publish = (stage: string) =>
    cl.a.server.services.pubsub.publish('trainingProgress', 'outage', {
      modelId: 'outage',
      progress: 0,
      stage,
      status: 'TRAINING',
      message: null,
      at: new Date().toISOString(),
    });
  const stages = () => sub.results.map((r) => r.data?.trainingProgress.stage);
  await publish('before');
  await until(() => stages().includes('before'));
  expect((await fetch(`${cl.b.url}/readiness`)).status).toBe(200);

  await proxy.down();
  await until(() => cl.a.server.services.pubsub.health() === 'down' && cl.b.server.services.pubsub.health() === 'down');
  const readiness = await fetch(`${cl.b.url}/readiness`);
  expect(readiness.status).toBe(503);
  expect(await readiness.json()).toMatchObject({ checks: { pubsub: 'down' } });
  // Queries and mutations do not depend on Redis.
  const targets = await cl.b.gql('mutation { createTarget(name: "during outage") { id name } }', {}, cl.token);
  expect(targets.data.createTarget.name).toBe('during outage');
  await publish('during'); // does not throw; B's subscriber cannot hear it

  await proxy.up();
  await until(() => cl.a.server.services.pubsub.health() === 'up' && cl.b.server.services.pubsub.health() === 'up', 15_000);
  expect((await fetch(`${cl.b.url}/readiness`)).status).toBe(200);
  await publish('after');
  await until(() => stages().includes('after'));
  expect(stages()).not.toContain('during');
  sub.stop();
});
