import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from './graph-helpers.ts';
import { scrape } from './metrics-helpers.ts';
import { privateRedis } from './private-redis.ts';
import { record, startCluster, subscribed, subscribers } from './realtime-cluster.ts';
import { until } from './realtime-helpers.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const readiness = async (url: string) => {
  const t0 = Date.now();
  const res = await fetch(`${url}/readiness`);
  return { status: res.status, body: (await res.json()) as { checks: Record<string, string> }, ms: Date.now() - t0 };
};

describe('/readiness asks every dependency, each within READINESS_TIMEOUT_MS', () => {
  it('a frozen Redis (SIGSTOP: its sockets stay open) reads as not ready, within the timeout; ready again once it runs', async () => {
    const redis = await privateRedis();
    cleanups.push(redis.stop);
    const cl = await startCluster({ REDIS_URL: redis.url, READINESS_TIMEOUT_MS: '400' }, 1);
    cleanups.push(cl.close);
    // The inference threads start with the server (~0.4 s): ready once they answer.
    await until(async () => (await readiness(cl.a.url)).status === 200, 10_000, 'ready at start');
    expect((await readiness(cl.a.url)).body.checks).toEqual({ store: 'up', pubsub: 'up', inference: 'up', disk: 'up' });

    redis.pause();
    const frozen = await readiness(cl.a.url);
    expect(frozen.status).toBe(503);
    expect(frozen.body.checks).toEqual({ store: 'up', pubsub: 'down', inference: 'up', disk: 'up' });
    // The connection still looks fine to the client library: only the ping can tell.
    expect(cl.a.server.services.pubsub.health()).toBe('up');
    expect(frozen.ms).toBeLessThan(400 + 1500);
    expect((await scrape(cl.a.url)).get('spectro_pubsub_up', { transport: 'redis' })).toBe(0);

    redis.resume();
    await until(async () => (await readiness(cl.a.url)).status === 200, 15_000, 'ready again');
    expect((await scrape(cl.a.url)).get('spectro_pubsub_up', { transport: 'redis' })).toBe(1);
  });

  it('Redis stopped and started again mid-subscription: not ready meanwhile, and the open subscription receives events again', async () => {
    const redis = await privateRedis();
    cleanups.push(redis.stop);
    const cl = await startCluster({ REDIS_URL: redis.url, READINESS_TIMEOUT_MS: '400' });
    cleanups.push(cl.close);
    const before = subscribers(cl.b);
    const sub = record(cl.client(cl.b), 'subscription { trainingProgress { stage } }');
    await subscribed(cl.b, before);
    const publish = (stage: string) =>
      cl.a.server.services.pubsub.publish('trainingProgress', 'restart', {
        modelId: 'restart',
        progress: 0,
        stage,
        status: 'TRAINING',
        message: null,
        at: new Date().toISOString(),
      });
    const stages = () => sub.results.map((r) => r.data?.trainingProgress.stage);
    await publish('before');
    await until(() => stages().includes('before'), 10_000, 'the first event');

    await redis.stop();
    await until(() => cl.a.server.services.pubsub.health() === 'down' && cl.b.server.services.pubsub.health() === 'down', 10_000, 'Redis seen down');
    const down = await readiness(cl.b.url);
    expect(down.status).toBe(503);
    expect(down.body.checks.pubsub).toBe('down');
    await publish('during'); // does not throw; it cannot cross to B

    await redis.start(); // an empty Redis on the same port: the channels must be subscribed again
    await until(() => cl.a.server.services.pubsub.health() === 'up' && cl.b.server.services.pubsub.health() === 'up', 15_000, 'Redis seen up');
    expect((await readiness(cl.b.url)).status).toBe(200);
    await publish('after');
    await until(() => stages().includes('after'), 10_000, 'an event after the restart');
    expect(stages()).toEqual(['before', 'after']);
    expect(sub.results.every((r) => !r.errors)).toBe(true);
    sub.stop();
  });

  it('less free disk space on DATA_DIR than MIN_FREE_DISK_BYTES reads as not ready, saying how much is free', async () => {
    const g = await startGateway({ ops: { ...(await import('../src/config.ts')).loadConfig({}).ops, minFreeDiskBytes: 2 ** 52 } });
    cleanups.push(() => g.close());
    const res = await g.fetch('/readiness');
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: Record<string, string>; disk: { freeBytes: number; minFreeBytes: number } };
    expect(body.checks).toEqual({ store: 'up', pubsub: 'up', inference: 'up', disk: 'down' });
    expect(body.disk.freeBytes).toBeGreaterThan(0);
    expect(body.disk.minFreeBytes).toBe(2 ** 52);
  });
});
