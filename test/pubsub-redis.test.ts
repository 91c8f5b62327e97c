import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createPubSub } from '../src/runtime/pubsub/index.ts';
import type { Topics } from '../src/runtime/pubsub/topics.ts';
import { channels, killConnections, numsub, REDIS_URL, redisProxy, until } from './realtime-helpers.ts';

const admin = new Redis(REDIS_URL);
afterAll(() => admin.quit());

const event = (n: number): Topics['trainingProgress'] => ({
  modelId: 'm',
  progress: n,
  stage: `s${n}`,
  status: 'TRAINING',
  message: null,
  at: new Date(0).toISOString(),
});

function recordingLog() {
  const lines: { level: string; msg: string }[] = [];
  return {
    lines,
    info: (_: object, msg?: string) => void lines.push({ level: 'info', msg: msg ?? '' }),
    warn: (_: object, msg?: string) => void lines.push({ level: 'warn', msg: msg ?? '' }),
  };
}

describe('pubsub over Redis: losing and regaining the connection', () => {
  it('resumes delivery by itself after its Redis connections are killed (CLIENT KILL)', async () => {
    const prefix = `test-${randomUUID()}:`;
    const logA = recordingLog();
    const [a, b] = await Promise.all([
      createPubSub({ redisUrl: REDIS_URL, log: logA, prefix }),
      createPubSub({ redisUrl: REDIS_URL, log: recordingLog(), prefix: prefix }),
    ]);
    try {
      const s = b.subscribe('trainingProgress', 'm');
      const all = b.subscribe('trainingProgress');
      await Promise.all([s.ready, all.ready]);
      await a.publish('trainingProgress', 'm', event(1));
      expect((await s.next()).value).toEqual(event(1));
      expect((await all.next()).value).toEqual(event(1));

      // Both instances use the same connection names (the prefix): every one of them dies.
      expect(await killConnections(admin, prefix)).toBe(4);
      await until(() => a.health() === 'up' && b.health() === 'up', 10_000, 'reconnect');
      await until(async () => (await numsub(admin, `${prefix}trainingProgress:m`)) === 1, 5000, 'resubscribe');

      await a.publish('trainingProgress', 'm', event(2));
      expect((await s.next()).value).toEqual(event(2));
      expect((await all.next()).value).toEqual(event(2));

      // Only the subscriber connections this time (as CLIENT KILL TYPE pubsub would).
      expect(await killConnections(admin, prefix, 'sub')).toBe(2);
      await until(async () => (await numsub(admin, `${prefix}trainingProgress:m`)) === 1, 10_000, 'resubscribe');
      await until(() => b.health() === 'up');
      await a.publish('trainingProgress', 'm', event(3));
      expect((await s.next()).value).toEqual(event(3));
      expect((await all.next()).value).toEqual(event(3));
      expect(logA.lines.filter((l) => l.level === 'warn').length).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('while Redis is away: health is down, it says so once, publishing still works locally; then it recovers', async () => {
    const proxy = await redisProxy();
    const prefix = `test-${randomUUID()}:`;
    const log = recordingLog();
    const a = await createPubSub({ redisUrl: proxy.url, log, prefix });
    const b = await createPubSub({ redisUrl: proxy.url, log: recordingLog(), prefix });
    try {
      const onB = b.subscribe('trainingProgress', 'm');
      const onA = a.subscribe('trainingProgress', 'm');
      await Promise.all([onA.ready, onB.ready]);
      expect(a.health()).toBe('up');

      await proxy.down();
      await until(() => a.health() === 'down' && b.health() === 'down', 5000, 'health down');
      // A few reconnect attempts fail meanwhile; the log says it once.
      await new Promise((r) => setTimeout(r, 500));
      expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
      expect(log.lines[0]!.msg).toMatch(/Redis connection lost/);

      // Publishing neither throws nor hangs; this instance's subscribers still get it.
      await a.publish('trainingProgress', 'm', event(1));
      expect((await onA.next()).value).toEqual(event(1));
      // Subscribing while down is accepted and takes effect on reconnect.
      const late = b.subscribe('trainingProgress', 'late');
      const released = b.subscribe('trainingProgress', 'released');
      await released.return();
      expect(a.stats().publishFailures).toBe(1);

      await proxy.up();
      await until(() => a.health() === 'up' && b.health() === 'up', 10_000, 'health up');
      await late.ready;
      expect(log.lines.filter((l) => l.level === 'info').map((l) => l.msg)).toEqual(['pubsub: Redis is back, event delivery resumed']);
      await a.publish('trainingProgress', 'm', event(2));
      await a.publish('trainingProgress', 'late', event(3));
      expect((await onB.next()).value).toEqual(event(2));
      expect((await onA.next()).value).toEqual(event(2));
      expect((await late.next()).value).toEqual(event(3));
      // The channel released while Redis was away was not brought back.
      expect(await channels(admin, `${prefix}*`)).not.toContain(`${prefix}trainingProgress:released`);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await proxy.close();
    }
  });

  it('starts with health down when Redis is unreachable, and serves local subscribers', async () => {
    const proxy = await redisProxy();
    await proxy.down();
    const log = recordingLog();
    const started = Date.now();
    const ps = await createPubSub({ redisUrl: proxy.url, log, prefix: `test-${randomUUID()}:`, connectTimeoutMs: 300 });
    try {
      expect(Date.now() - started).toBeLessThan(2000);
      expect(ps.health()).toBe('down');
      expect(log.lines.map((l) => l.level)).toEqual(['warn']);
      const s = ps.subscribe('trainingProgress', 'm');
      await ps.publish('trainingProgress', 'm', event(1));
      expect((await s.next()).value).toEqual(event(1));
      await proxy.up();
      await until(() => ps.health() === 'up', 10_000, 'health up');
      await s.ready;
    } finally {
      await ps.close();
      await proxy.close();
    }
  });
});
