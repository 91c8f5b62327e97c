import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpstreamClient } from '../src/runtime/upstream/client.ts';
import { TokenCache, tokenFromResponse } from '../src/runtime/upstream/token-cache.ts';
import { CLIENT_ID, CLIENT_SECRET, png, startRestServer, type RestServer } from './rest-helpers.ts';

// Gateway G with UPSTREAMS pointing at gateway U (both real servers on real ports): G reads U
// through U's REST layer.

let u: RestServer;
let g: RestServer;
let uTargetId: string;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  u = await startRestServer({ JWT_SECRET: 'upstream-key-one-0123456789abcdef' });
  const created = await u.gql(`mutation { createTarget(name: "u-bolts", preprocessing: [{ name: "crop", active: true }]) { restId } }`);
  // The upstream's REST id of the target (its integer key), as the gateway reads it from there.
  uTargetId = String(created.data.createTarget.restId);
  const dead = await closedPort();
  g = await startRestServer({
    UPSTREAMS: `u=${u.url},dead=http://127.0.0.1:${dead}`,
    UPSTREAM_U_CLIENT_ID: CLIENT_ID,
    UPSTREAM_U_CLIENT_SECRET: CLIENT_SECRET,
    UPSTREAM_TIMEOUT_MS: '3000',
  });
});

afterAll(async () => {
  await g?.stop();
  await u?.stop();
});

describe('upstreams through GraphQL', () => {
  it("shows the upstream's targets, algorithms and health next to an unreachable one", async () => {
    const res = await g.gql(`{
      upstreams { name url healthy error
        targets { id upstream name preprocessing { name active } }
        algorithms { id name parameters { id name dataType } }
        models { id } }
    }`);
    const byName = Object.fromEntries(res.data.upstreams.map((x: any) => [x.name, x]));
    expect(byName.u).toMatchObject({
      url: u.url,
      healthy: true,
      error: null,
      targets: [{ id: uTargetId, upstream: 'u', name: 'u-bolts', preprocessing: [{ name: 'crop', active: true }] }],
      models: [],
    });
    const localAlgorithms = await u.server.services.store.listAlgorithms();
    expect(byName.u.algorithms.map((a: any) => a.id).sort()).toEqual(localAlgorithms.map((a) => a.id).sort());
    expect(byName.u.algorithms[0].parameters.length).toBeGreaterThan(0);

    // The unreachable one: null data with an UNAVAILABLE error at its own path, healthy false.
    expect(byName.dead).toMatchObject({ healthy: false, targets: null });
    expect(byName.dead.error).toMatch(/ECONNREFUSED/);
    const deadErrors = res.errors!.filter((e: any) => e.path[1] === Object.keys(byName).indexOf('dead'));
    expect(deadErrors.length).toBeGreaterThan(0);
    for (const e of deadErrors) {
      expect(e.extensions.code).toBe('UNAVAILABLE');
      expect(e.message).toContain('upstream "dead"');
    }
  });

  it('reads one target, a missing one as null, and an unknown upstream as null', async () => {
    const res = await g.gql(
      `query ($id: ID!) { upstream(name: "u") { target(id: $id) { name } missing: target(id: "nope") { name } } none: upstream(name: "x") { name } }`,
      {
        id: uTargetId,
      },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ upstream: { target: { name: 'u-bolts' }, missing: null }, none: null });
  });

  it("proxies the upstream's REST API under /upstream/<name>/ for callers with a token", async () => {
    const ok = await g.call('GET', '/upstream/u/api/v1/targets/');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-upstream')).toBe('u');
    expect((await ok.json()).data).toEqual([expect.objectContaining({ target_id: Number(uTargetId), name: 'u-bolts' })]);
    expect((await g.call('GET', '/upstream/u/api/v1/targets/', { auth: null })).status).toBe(401);
    expect((await g.call('GET', '/upstream/nope/api/v1/targets/')).status).toBe(404);
    expect((await g.call('GET', '/upstream/u/graphql')).status).toBe(404);
    // The upstream's own 404 comes through as is.
    expect((await g.call('GET', '/upstream/u/api/v1/targets/nope')).status).toBe(404);

    // A multipart upload streams through to the upstream.
    const form = new FormData();
    form.append('files', new Blob([new Uint8Array(await png(3))], { type: 'image/png' }), 'via-proxy.png');
    form.append('files', new Blob([new Uint8Array(await png(4))], { type: 'image/png' }), 'via-proxy-2.png');
    form.set('training', 'true');
    const added = await g.call('POST', '/upstream/u/api/v1/items/', { form });
    expect(added.status).toBe(201);
    const { item_ids } = (await added.json()).data;
    expect(item_ids).toHaveLength(2);
    const remote = await g.gql(`query ($id: ID!) { upstream(name: "u") { item(id: $id) { name isTrainingData images { width } } } }`, { id: item_ids[0] });
    expect(remote.data.upstream.item).toEqual({ name: 'via-proxy.png', isTrainingData: true, images: [{ width: 32 }] });
  });

  it('fetches a new upstream token when the upstream answers 401 (restarted with a new signing key)', async () => {
    const oldToken = u.token;
    const { dir, port } = u;
    await u.stop({ keepData: true });
    u = await startRestServer({ JWT_SECRET: 'upstream-key-two-0123456789abcdef' }, { dir, port });
    // The token G holds is now refused by U...
    expect((await u.call('GET', '/api/v1/targets/', { auth: oldToken })).status).toBe(401);
    // ...and G recovers by itself.
    const res = await g.gql(`{ upstream(name: "u") { healthy targets { id } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.upstream.targets).toEqual([{ id: uTargetId }]);
  });

  it('reports a stopped upstream as unavailable at once instead of hanging', async () => {
    await u.stop({ keepData: true });
    const started = Date.now();
    const res = await g.gql(`{ upstream(name: "u") { targets { id } } }`);
    expect(res.data.upstream.targets).toBeNull();
    expect(res.errors![0]).toMatchObject({ path: ['upstream', 'targets'], extensions: { code: 'UNAVAILABLE' } });
    expect(res.errors![0].message).toMatch(/upstream "u" is unavailable: .*ECONNREFUSED/);
    const health = await g.gql(`{ upstream(name: "u") { healthy error status { circuit consecutiveFailures } } }`);
    expect(health.data.upstream).toMatchObject({ healthy: false, error: expect.stringMatching(/ECONNREFUSED/) });
    expect(health.data.upstream.status.consecutiveFailures).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(5000);

    const proxied = await g.call('GET', '/upstream/u/api/v1/targets/');
    expect(proxied.status).toBe(503);
    expect((await proxied.json()).errors.detail).toMatch(/upstream "u"/);
  });
});

describe('upstream client', () => {
  it('gives up on an upstream that accepts connections but never answers, then fails fast while its circuit is open', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const client = createUpstreamClient({
      name: 'silent',
      url: `http://id:secret@127.0.0.1:${port}`,
      timeoutMs: 300,
      retries: 1,
      backoffMs: 10,
      circuit: { threshold: 2, coolDownMs: 60_000 },
    });
    try {
      const started = Date.now();
      const health = await client.probe();
      expect(health).toMatchObject({ healthy: false, circuit: 'open' });
      expect(health.lastError).toMatch(/no response within 300 ms/);
      expect(Date.now() - started).toBeLessThan(2500);

      const again = Date.now();
      await expect(client.json({ method: 'GET', path: '/api/v1/targets/' })).rejects.toThrow(/circuit open/);
      expect(Date.now() - again).toBeLessThan(100);
      expect(client.url).toBe(`http://127.0.0.1:${port}`);
    } finally {
      await client.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('upstream token cache', () => {
  it('shares one fetch between concurrent callers and replaces the token before it expires', async () => {
    let clock = 1_000_000;
    let issued = 0;
    const cache = new TokenCache(
      async () => tokenFromResponse({ access_token: `t${++issued}`, expires_in: 100 }, clock),
      30_000,
      () => clock,
    );
    expect(await Promise.all([cache.get(), cache.get(), cache.get()])).toEqual(['t1', 't1', 't1']);
    clock += 89_000; // 11 s left: more than 10 % of the life
    expect(await cache.get()).toBe('t1');
    clock += 2_000; // 9 s left: inside the margin
    expect(await cache.get()).toBe('t2');
    cache.invalidate('t1'); // a stale 401 does not drop the newer token
    expect(await cache.get()).toBe('t2');
    cache.invalidate('t2');
    expect(await cache.get()).toBe('t3');
    expect(cache.fetches).toBe(3);
  });

  it("reads the expiry from the JWT's exp when the token response has no expires_in", () => {
    const exp = 2_000_000_000;
    const jwt = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.sig`;
    expect(tokenFromResponse({ access_token: jwt })).toEqual({ accessToken: jwt, expiresAt: exp * 1000 });
    expect(() => tokenFromResponse({})).toThrow(/access_token/);
  });
});
