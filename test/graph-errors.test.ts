import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codesOf, dataOf, startGateway, type Gateway } from './graph-helpers.ts';

let g: Gateway;
let token: string;

beforeAll(async () => {
  g = await startGateway();
  token = await g.token('all');
});
afterAll(() => g?.close());

describe('requests that never run', () => {
  test('a malformed query: BAD_USER_INPUT, 400', async () => {
    const res = await g.gql('{ targets { id ', {}, token);
    expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.status).toBe(400);
    expect(res.errors![0]!.message).toMatch(/Syntax Error/);
  });

  test('an unknown field or a wrong argument type: BAD_USER_INPUT', async () => {
    expect(codesOf(await g.gql('{ targets { id colour } }', {}, token))).toEqual(['BAD_USER_INPUT']);
    expect(codesOf(await g.gql('query($n: Int) { items(type: TRAINING, first: $n) { totalCount } }', { n: 'ten' }, token))).toEqual(['BAD_USER_INPUT']);
  });

  test('an over-deep query: BAD_USER_INPUT, nothing executed', async () => {
    const before = g.server.services.store.stats.reads;
    const deep = `{ items(type: TRAINING) { edges { node { target { items { edges { node { target { items { edges { node { target { name } } } } } } } } } } } } }`;
    const res = await g.gql(deep, {}, token);
    expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors![0]!.message).toMatch(/depth/i);
    expect(g.server.services.store.stats.reads).toBe(before);
  });

  test('too many aliases: BAD_USER_INPUT', async () => {
    const query = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: nodeHash`).join(' ')} }`;
    expect(codesOf(await g.gql(query, {}, token))).toEqual(['BAD_USER_INPUT']);
  });

  test('a page size over 100: BAD_USER_INPUT', async () => {
    expect(codesOf(await g.gql('{ items(type: TRAINING, first: 1000) { totalCount } }', {}, token))).toEqual(['BAD_USER_INPUT']);
  });

  test('a GET query with neither its bearer token nor a CSRF header is refused; either one lets it run', async () => {
    const q = encodeURIComponent('{ nodeHash }');
    const accept = { accept: 'application/json' };
    const bare = await g.fetch(`/graphql?query=${q}`, { headers: accept });
    expect(bare.status).toBe(403);
    expect(JSON.stringify(await bare.json())).toMatch(/CSRF/);
    const bearer = await g.fetch(`/graphql?query=${q}`, { headers: { ...accept, authorization: `Bearer ${token}` } });
    expect(bearer.status).toBe(200);
    expect((await bearer.json()).data.nodeHash).toMatch(/\w/);
    // a cookie-only caller (the dashboard) adds the CSRF header; the operation then needs its token
    const csrf = await g.fetch(`/graphql?query=${q}`, { headers: { ...accept, 'x-graphql-yoga-csrf': '1' } });
    expect(codesOf(await csrf.json())).toEqual(['UNAUTHENTICATED']);
  });
});

describe('unexpected failures', () => {
  test('are masked, and logged with the request id', async () => {
    const lines: Record<string, any>[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    const broken = await startGateway({}, { log: pino({ level: 'info' }, sink) });
    try {
      const t = await broken.token('all');
      // The database goes away under a running server: every read now throws a plain Error.
      await broken.server.services.store.close();
      const res = await broken.gql('{ targets { id } }', {}, t, { 'x-request-id': 'req-masked-1' });
      expect(codesOf(res)).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(res.errors![0]!.message).toBe('Unexpected error.');
      expect(JSON.stringify(res)).not.toMatch(/sqlite|database|at .*\.ts/i);
      expect(res.headers.get('x-request-id')).toBe('req-masked-1');

      const logged = lines.filter((l) => l.requestId === 'req-masked-1');
      expect(logged.some((l) => l.msg === 'unexpected error' && l.err?.stack)).toBe(true);
      expect(logged.some((l) => l.msg === 'request' && l.path === '/graphql')).toBe(true);
    } finally {
      await broken.close().catch(() => undefined);
    }
  });
});

test('node() and lookups answer known ids after the error tests (server still healthy)', async () => {
  const target = dataOf(await g.gql<any>('mutation { createTarget(name: "after") { id } }', {}, token)).createTarget;
  expect(dataOf(await g.gql<any>('query($id: ID!) { node(id: $id) { id } }', { id: target.id }, token)).node.id).toBe(target.id);
});
