import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { createPubSub } from '../src/runtime/pubsub/index.ts';
import { channels, collectGarbage, REDIS_URL } from './realtime-helpers.ts';

const admin = new Redis(REDIS_URL);
afterAll(() => admin.quit());
const log = { info: () => {}, warn: () => {} };

it('thousands of subscribe/unsubscribe cycles leave no Redis channels, subscribers or heap behind', async () => {
  const prefix = `test-${randomUUID()}:`;
  const ps = await createPubSub({ redisUrl: REDIS_URL, log, prefix });
  const publisher = await createPubSub({ redisUrl: REDIS_URL, log, prefix });
  try {
    const keep = ps.subscribe('predictionResult', 'kept');
    await keep.ready;
    const baseline = { stats: ps.stats(), channels: (await channels(admin, `${prefix}*`)).sort() };
    const cycle = async (round: number) => {
      // 50 at a time over 10 keys: channels are shared, acquired and released concurrently.
      const subs = Array.from({ length: 50 }, (_, i) =>
        i % 5 === 0 ? ps.subscribe('trainingProgress') : ps.subscribe('trainingProgress', `k${(round + i) % 10}`),
      );
      await Promise.all(subs.map((s) => s.ready));
      await publisher.publish('trainingProgress', `k${round % 10}`, {
        modelId: `k${round % 10}`,
        progress: 0,
        stage: 's',
        status: 'TRAINING',
        message: null,
        at: '',
      });
      await Promise.all(subs.map((s) => s.return()));
    };
    for (let r = 0; r < 20; r++) await cycle(r);
    const heapBefore = await collectGarbage();
    for (let r = 0; r < 100; r++) await cycle(r); // 5,000 subscriptions
    const heapAfter = await collectGarbage();

    expect(ps.stats()).toEqual(baseline.stats);
    // A round trip through the subscriber connection: the UNSUBSCRIBEs written before it are done.
    await ps.publish('predictionResult', 'kept', { assessmentId: 'a', itemId: 'i', modelId: 'kept', targetId: 't', at: '' });
    await keep.next();
    expect((await channels(admin, `${prefix}*`)).sort()).toEqual(baseline.channels);
    expect(heapAfter - heapBefore).toBeLessThan(2 * 1024 * 1024);
  } finally {
    await Promise.all([ps.close(), publisher.close()]);
  }
});
