import net from 'node:net';
import type { Redis } from 'ioredis';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A resolvable promise, for waiting on events instead of sleeping. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Polls until `check` is truthy (for state that only Redis or a socket can report). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition') {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A TCP proxy in front of the real Redis that a test can take down and bring back, to simulate
 * an outage without touching the Redis everybody shares.
 */
export async function redisProxy(target = REDIS_URL) {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let listenPort = 0;
  const listen = async () => {
    server = net.createServer((client) => {
      const upstream = net.connect(Number(port || 6379), hostname);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((r) => server!.listen(listenPort, '127.0.0.1', () => r()));
    listenPort = (server!.address() as net.AddressInfo).port;
  };
  await listen();
  return {
    get url() {
      return `redis://127.0.0.1:${listenPort}`;
    },
    async down() {
      const s = server!;
      server = null;
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((r) => s.close(() => r()));
    },
    up: listen,
    async close() {
      if (server) await this.down();
    },
  };
}

/** Ids of the Redis connections whose name starts with `namePrefix` (and ends with `suffix`). */
export async function connectionIds(admin: Redis, namePrefix: string, suffix?: 'pub' | 'sub'): Promise<string[]> {
  const list = (await admin.call('CLIENT', 'LIST')) as string;
  const ids: string[] = [];
  for (const line of list.split('\n')) {
    const fields = Object.fromEntries(line.split(' ').map((kv) => kv.split('=') as [string, string]));
    const name = fields.name ?? '';
    if (name.startsWith(namePrefix) && (!suffix || name.endsWith(suffix))) ids.push(fields.id!);
  }
  return ids;
}

/**
 * Kills those connections (CLIENT KILL ID …) and waits until as many new ones are there, so
 * that the clients have noticed: a health check right after a kill could still read 'up'.
 */
export async function killConnections(admin: Redis, namePrefix: string, suffix?: 'pub' | 'sub') {
  const ids = await connectionIds(admin, namePrefix, suffix);
  for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
  await until(
    async () => {
      const now = await connectionIds(admin, namePrefix, suffix);
      return now.length === ids.length && !now.some((id) => ids.includes(id));
    },
    10_000,
    'reconnection',
  );
  return ids.length;
}

export async function numsub(admin: Redis, channel: string): Promise<number> {
  const r = (await admin.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
  return Number(r[1]);
}

export async function channels(admin: Redis, pattern: string): Promise<string[]> {
  return (await admin.call('PUBSUB', 'CHANNELS', pattern)) as string[];
}

/** Forces a full GC (for heap-growth assertions) without needing --expose-gc on the command line. */
export async function collectGarbage(): Promise<number> {
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}
