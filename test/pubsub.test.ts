import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPubSub, type PubSub } from '../src/runtime/pubsub/index.ts';
import type { Topics } from '../src/runtime/pubsub/topics.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const log = { info: () => {}, warn: () => {} };
const admin = new Redis(REDIS_URL);
afterAll(() => admin.quit());

const progress = (modelId: string, n: number): Topics['trainingProgress'] => ({
  modelId,
  progress: n / 10,
  stage: `step ${n}`,
  status: n === 10 ? 'READY' : 'TRAINING',
  message: null,
  at: new Date(0).toISOString(),
});
const result = (modelId: string, targetId: string, n: number): Topics['predictionResult'] => ({
  assessmentId: `a${n}`,
  itemId: `i${n}`,
  modelId,
  targetId,
  at: new Date(0).toISOString(),
});

async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** The same behaviour, whichever transport: each test body runs for both. */
const transports = {
  memory: () => createPubSub({ log }),
  redis: () => createPubSub({ redisUrl: REDIS_URL, log, prefix: `test-${randomUUID()}:` }),
};

for (const [name, make] of Object.entries(transports)) {
  describe(`pubsub (${name})`, () => {
    const open: PubSub[] = [];
    const create = async () => {
      const ps = await make();
      open.push(ps);
      return ps;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((p) => p.close()));
    });

    it('delivers a channel in order to its subscribers only, and every channel to key-less ones', async () => {
      const ps = await create();
      expect(ps.health()).toBe('up');
      const a = ps.subscribe('trainingProgress', 'm1');
      const b = ps.subscribe('trainingProgress', 'm2');
      const all = ps.subscribe('trainingProgress');
      const other = ps.subscribe('predictionResult');
      await Promise.all([a.ready, b.ready, all.ready, other.ready]);
      for (let n = 1; n <= 10; n++) {
        await ps.publish('trainingProgress', 'm1', progress('m1', n));
        if (n % 2 === 0) await ps.publish('trainingProgress', 'm2', progress('m2', n));
      }
      await ps.publish('predictionResult', 'm1', result('m1', 't1', 1));
      expect((await take(a, 10)).map((e) => e.stage)).toEqual(Array.from({ length: 10 }, (_, i) => `step ${i + 1}`));
      expect((await take(b, 5)).map((e) => e.progress)).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
      const everything = await take(all, 15);
      expect(everything.filter((e) => e.modelId === 'm1')).toHaveLength(10);
      expect(everything.filter((e) => e.modelId === 'm2')).toHaveLength(5);
      expect(await take(other, 1)).toEqual([result('m1', 't1', 1)]);
      expect(everything.at(-1)).toEqual(progress('m2', 10));
    });

    it('releases every channel when subscribers return, and a pending next() resolves done', async () => {
      const ps = await create();
      const subs = [
        ps.subscribe('trainingProgress', 'x'),
        ps.subscribe('trainingProgress', 'x'),
        ps.subscribe('predictionResult', 'x'),
        ps.subscribe('predictionResult'),
      ];
      await Promise.all(subs.map((s) => s.ready));
      expect(ps.stats()).toMatchObject({ subscribers: 4, channels: 2, patterns: 1 });
      const pending = subs[0]!.next();
      await subs[0]!.return();
      expect(await pending).toEqual({ value: undefined, done: true });
      expect(ps.stats()).toMatchObject({ subscribers: 3, channels: 2 });
      for (const s of subs) await s.return();
      expect(ps.stats()).toMatchObject({ subscribers: 0, channels: 0, patterns: 0 });
      // Nothing arrives after return, even if published.
      await ps.publish('trainingProgress', 'x', progress('x', 1));
      expect(await subs[1]!.next()).toEqual({ value: undefined, done: true });
    });

    it('drop-oldest overflow keeps the newest events and counts the dropped ones', async () => {
      const ps = await create();
      const slow = ps.subscribe('trainingProgress', 'm', { bufferSize: 3 });
      const fast = ps.subscribe('trainingProgress', 'm', { bufferSize: 100 });
      await Promise.all([slow.ready, fast.ready]);
      for (let n = 1; n <= 10; n++) await ps.publish('trainingProgress', 'm', progress('m', n));
      // The fast one is not held up by the slow one.
      expect((await take(fast, 10)).map((e) => e.stage).at(-1)).toBe('step 10');
      expect((await take(slow, 3)).map((e) => e.stage)).toEqual(['step 8', 'step 9', 'step 10']);
      expect(slow.dropped).toBe(7);
      expect(ps.stats().dropped).toBe(7);
    });

    it('error overflow ends the subscription with UNAVAILABLE and releases it', async () => {
      const ps = await create();
      const slow = ps.subscribe('predictionResult', 'm', { bufferSize: 2 });
      await slow.ready;
      for (let n = 1; n <= 5; n++) await ps.publish('predictionResult', 'm', result('m', 't', n));
      await expect(take(slow, 5)).rejects.toMatchObject({ extensions: { code: 'UNAVAILABLE' } });
      expect(await slow.next()).toEqual({ value: undefined, done: true });
      expect(ps.stats()).toMatchObject({ subscribers: 0, channels: 0, overflowed: 1 });
    });

    it('close() completes open iterators after what they buffered', async () => {
      const ps = await create();
      const s = ps.subscribe('trainingProgress', 'm');
      const idle = ps.subscribe('predictionResult');
      await Promise.all([s.ready, idle.ready]);
      await ps.publish('trainingProgress', 'm', progress('m', 1));
      await take(ps.subscribe('trainingProgress', 'never'), 0);
      // Let the event arrive (Redis) before closing.
      const first = await s.next();
      const pending = idle.next();
      await ps.close();
      expect(first.value).toEqual(progress('m', 1));
      expect(await pending).toEqual({ value: undefined, done: true });
      expect(await s.next()).toEqual({ value: undefined, done: true });
      expect(await ps.subscribe('trainingProgress', 'late').next()).toEqual({ value: undefined, done: true });
    });
  });
}

describe('pubsub (redis) across instances', () => {
  it('an event published on one instance reaches subscribers on another, and holds one Redis channel', async () => {
    const prefix = `test-${randomUUID()}:`;
    const [a, b] = await Promise.all([createPubSub({ redisUrl: REDIS_URL, log, prefix }), createPubSub({ redisUrl: REDIS_URL, log, prefix })]);
    try {
      const subs = Array.from({ length: 50 }, () => b.subscribe('predictionResult', 'm'));
      await Promise.all(subs.map((s) => s.ready));
      const numsub = (await admin.call('PUBSUB', 'NUMSUB', `${prefix}predictionResult:m`)) as [string, number];
      expect(numsub[1]).toBe(1);
      await a.publish('predictionResult', 'm', result('m', 't', 1));
      for (const s of subs) expect((await s.next()).value).toEqual(result('m', 't', 1));
      for (const s of subs) await s.return();
      // UNSUBSCRIBE has been sent; a round trip on the same connection orders after it.
      await expect.poll(async () => ((await admin.call('PUBSUB', 'NUMSUB', `${prefix}predictionResult:m`)) as [string, number])[1]).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
