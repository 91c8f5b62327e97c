import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './gateway-process.ts';
import { deferred, until } from './realtime-helpers.ts';

/**
 * A redis-server of this test's own on a free port, that the test may stop, restart and freeze
 * (SIGSTOP) without touching the Redis on 6379 that everybody shares.
 */
export async function privateRedis() {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let paused = false;

  const answers = async () => {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
    probe.on('error', () => {});
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  };

  const start = async () => {
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    child = c;
    const done = deferred();
    c.once('exit', () => done.resolve());
    exited = done.promise;
    await until(answers, 10_000, `redis-server on port ${port}`);
  };

  const stop = async () => {
    if (!child) return;
    if (paused) child.kill('SIGCONT');
    paused = false;
    child.kill('SIGTERM');
    await exited;
    child = null;
  };

  await start();
  return {
    url,
    port,
    start,
    stop,
    /** Freezes the server: connections stay open, nothing answers. */
    pause() {
      paused = true;
      child?.kill('SIGSTOP');
    },
    resume() {
      paused = false;
      child?.kill('SIGCONT');
    },
  };
}
