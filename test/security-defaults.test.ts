import { expect, test } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { codesOf, gatewaysPerTest, type Gateway } from './graph-helpers.ts';

/** Issue 9's safe defaults: headers, CORS allow-list, introspection setting, per-client budgets. */
const start = gatewaysPerTest();

test('every answer carries the security headers; API answers a CSP that runs nothing', async () => {
  const g = await start();
  for (const path of ['/health', '/graphql?query=%7B__typename%7D', '/api/v1/targets/', '/readiness']) {
    const res = await g.fetch(path, { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    expect(res.headers.get('x-frame-options'), path).toBe('DENY');
    expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
    expect(res.headers.get('content-security-policy'), path).toMatch(/default-src 'none'/);
  }
});

test('CORS: same-origin only by default; the allow-list lets its origins in and no other', async () => {
  const preflight = (g: Gateway, origin: string) =>
    g.fetch('/graphql', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
  const closed = await start();
  expect((await preflight(closed, 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();

  const open = await start({ CORS_ORIGINS: 'https://hmi.plant.example' });
  expect((await preflight(open, 'https://hmi.plant.example')).headers.get('access-control-allow-origin')).toBe('https://hmi.plant.example');
  expect((await preflight(open, 'https://evil.example')).headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
});

test('introspection needs a token by default, as every operation but `token`; GRAPHQL_INTROSPECTION=on opens it, off refuses it to everyone', async () => {
  const q = '{ __type(name: "Query") { name } }';
  const byDefault = await start();
  const token = await byDefault.token('read');
  expect((await byDefault.gql(`{ __schema { queryType { name } } }`, {}, token)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  const anonymous = await byDefault.gql(q, {}, null);
  expect(codesOf(anonymous)).toEqual(['UNAUTHENTICATED']);
  expect(anonymous.status).toBe(401);
  expect(anonymous.data ?? null).toBeNull();
  // nested in an ordinary query too
  expect(codesOf(await byDefault.gql('{ targets { __typename } __schema { types { name } } }', {}, null))).toEqual(['UNAUTHENTICATED']);
  const open = await start({ GRAPHQL_INTROSPECTION: 'on' });
  expect((await open.gql(q, {}, null)).data).toEqual({ __type: { name: 'Query' } });
  const off = await start({ GRAPHQL_INTROSPECTION: 'off' });
  const res = await off.gql('{ __schema { queryType { name } } }', {}, await off.token('read'));
  expect(res.errors?.[0]?.message).toMatch(/introspection/i);
  expect(() => loadConfig({ GRAPHQL_INTROSPECTION: 'sometimes' })).toThrow(/GRAPHQL_INTROSPECTION must be one of token, on, off/);
});

test('GRAPHQL_RATE_PER_CLIENT: a client past its budget gets RATE_LIMITED (429, Retry-After); others go on', async () => {
  const g = await start({ GRAPHQL_RATE_PER_CLIENT: '5' });
  const busy = await g.token('read');
  const other = await g.token('read');
  const results = [];
  for (let i = 0; i < 7; i++) results.push(await g.gql('{ targets { id } }', {}, busy));
  expect(results.slice(0, 5).every((r) => r.errors === undefined)).toBe(true);
  expect(codesOf(results[5]!)).toEqual(['RATE_LIMITED']);
  expect(results[5]!.status).toBe(429);
  expect(Number(results[5]!.headers.get('retry-after'))).toBeGreaterThan(0);
  expect((await g.gql('{ targets { id } }', {}, other)).errors).toBeUndefined();
});
