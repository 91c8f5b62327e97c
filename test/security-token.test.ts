import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createAuth } from '../src/runtime/auth/auth.ts';
import { createStore } from '../src/runtime/store/index.ts';
import { createServer } from '../src/server.ts';
import { createLogger } from '../src/logging.ts';
import { CLIENT_ID, CLIENT_SECRET, startRestServer, type RestServer } from './rest-helpers.ts';

/** Attack 2 of issue 9: the token endpoint as a brute-force target and as a way to starve the server. */
const tokenRequest = (url: string, clientId: string, secret: string) =>
  fetch(`${url}/api/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
  });

describe('rate limits on the token endpoint', () => {
  let s: RestServer;
  beforeAll(async () => {
    s = await startRestServer({ TOKEN_RATE_PER_CLIENT: '10', TOKEN_RATE_PER_SOURCE: '30', TOKEN_RATE_WINDOW_SECONDS: '60' });
  });
  afterAll(() => s?.stop());

  test('guessing one client secret gets 429 with Retry-After long before 50 guesses', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 20; i++) {
      const res = await tokenRequest(s.url, CLIENT_ID, `guess-${i}`);
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        expect((await res.json()).error).toBe('slow_down');
        break;
      }
      await res.body?.cancel();
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses[10]).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // The right secret is refused too while the client's budget is spent: guessing cannot go on.
    expect((await tokenRequest(s.url, CLIENT_ID, CLIENT_SECRET)).status).toBe(429);
  });

  test('guessing across many client ids from one address is limited per source', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await tokenRequest(s.url, `spc_unknown_${i}`, 'guess');
      statuses.push(res.status);
      await res.body?.cancel();
      if (res.status === 429) break;
    }
    // 11 attempts of the test above already count against this address.
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.length).toBeLessThanOrEqual(30);
  });

  test('the GraphQL token mutation, refused for the same spent budget, answers 429 with Retry-After as well', async () => {
    const res = await fetch(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `mutation { token(clientId: "${CLIENT_ID}", clientSecret: "${CLIENT_SECRET}") { accessToken } }` }),
    });
    expect(res.status).toBe(429);
    const body = await res.json();
    expect(body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(Number(res.headers.get('retry-after'))).toBe(body.errors[0].extensions.retryAfter);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('successful logins do not spend the budget', () => {
  let s: RestServer;
  beforeAll(async () => {
    s = await startRestServer({ TOKEN_RATE_PER_CLIENT: '3' });
  });
  afterAll(() => s?.stop());

  test('a client logging in again and again keeps getting tokens', async () => {
    for (let i = 0; i < 8; i++) expect((await tokenRequest(s.url, CLIENT_ID, CLIENT_SECRET)).status).toBe(200);
  });
});

describe('secret hashing off the shared thread pool', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sec-token-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('file I/O is not queued behind a burst of token attempts', async () => {
    const store = await createStore({ dataDir: dir });
    const auth = await createAuth({ store, config: loadConfig({ DATA_DIR: dir, AUTH_HASH_QUEUE: '64', TOKEN_RATE_PER_SOURCE: '1000' }) });
    try {
      let answered = 0;
      const attempts = Array.from({ length: 16 }, (_, i) =>
        auth
          .issueToken(`spc_nobody_${i}`, 'garbage')
          .catch(() => undefined)
          .finally(() => answered++),
      );
      // fs reads run on libuv's pool: had the 16 scrypt runs gone there, this read would wait for most of them.
      await fs.promises.readFile(path.join(dir, fs.readdirSync(dir)[0]!)).catch(() => fs.promises.stat(dir));
      expect(answered).toBeLessThan(4);
      await Promise.all(attempts);
      expect(answered).toBe(16);
    } finally {
      await auth.close();
      await store.close();
    }
  });

  test('attempts beyond the hashing queue are refused with RATE_LIMITED, not queued without end', async () => {
    const store = await createStore({ dataDir: dir });
    const auth = await createAuth({ store, config: loadConfig({ DATA_DIR: dir, AUTH_HASH_QUEUE: '4', TOKEN_RATE_PER_SOURCE: '1000' }) });
    try {
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          auth.issueToken(`spc_nobody_${i}`, 'garbage').then(
            () => 'ok',
            (e: { code?: string }) => e.code,
          ),
        ),
      );
      expect(results.filter((r) => r === 'RATE_LIMITED').length).toBeGreaterThan(0);
      expect(results.filter((r) => r === 'UNAUTHENTICATED').length).toBeGreaterThanOrEqual(5);
    } finally {
      await auth.close();
      await store.close();
    }
  });
});

describe('weak bootstrap secrets', () => {
  const start = (env: Record<string, string>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sec-weak-'));
    const config = loadConfig({ DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env });
    return createServer(config, { log: createLogger('silent') }).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
  };

  test.each([
    ['a short client secret', { SPECTRO_CLIENT_ID: 'ops', SPECTRO_CLIENT_SECRET: 'admin123' }, /SPECTRO_CLIENT_SECRET/],
    ['a trivial client secret', { SPECTRO_CLIENT_ID: 'ops', SPECTRO_CLIENT_SECRET: 'aaaaaaaaaaaaaaaaaaaaaaaa' }, /SPECTRO_CLIENT_SECRET/],
    ['a short JWT key', { JWT_SECRET: 'secret' }, /JWT_SECRET/],
  ])('%s stops the start with a message naming the setting', async (_what, env, name) => {
    const err = await start(env).then(
      (s) => s.stop().then(() => null),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(name);
  });
});

describe('counters shared through Redis', () => {
  test('two instances on one Redis spend one budget, and a Redis that is away falls back to local counters', async () => {
    const { createRateLimits } = await import('../src/runtime/limits/rate-limit.ts');
    const { REDIS_URL } = await import('./realtime-helpers.ts');
    const prefix = `sec-test-${process.pid}-${Date.now()}:`;
    const a = createRateLimits({ redisUrl: REDIS_URL, prefix });
    const b = createRateLimits({ redisUrl: REDIS_URL, prefix });
    const away = createRateLimits({ redisUrl: 'redis://127.0.0.1:1', prefix });
    try {
      const la = a.limiter('t', 3, 60);
      const lb = b.limiter('t', 3, 60);
      await Promise.all([a.ready(), b.ready()]);
      const results = [await la.consume('k'), await lb.consume('k'), await la.consume('k'), await lb.consume('k')];
      expect(results.map((r) => r.ok)).toEqual([true, true, true, false]);
      const l = away.limiter('t', 2, 60);
      expect([(await l.consume('k')).ok, (await l.consume('k')).ok, (await l.consume('k')).ok]).toEqual([true, true, false]);
    } finally {
      await Promise.all([a.close(), b.close(), away.close()]);
    }
  });
});
