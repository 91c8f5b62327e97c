import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { dashboardDocuments, documentHash } from '../src/http/trusted-documents.ts';
import { gatewaysPerTest, type Gateway } from './graph-helpers.ts';
import { rawSocket } from './ws-raw.ts';

/** Issue 9's control: trusted documents (persisted operations), TRUSTED_DOCUMENTS=off|allow|enforce. */
const start = gatewaysPerTest();
const files: string[] = [];
afterEach(() => {
  for (const f of files.splice(0)) fs.rmSync(f, { force: true });
});

/** One of the dashboard's queries (it reads `algorithms`, which the assertions look at). */
const dashboard = () => dashboardDocuments().find((d) => d.startsWith('query Targets'))!;
const trainingFeed = () => dashboardDocuments().find((d) => d.startsWith('subscription TrainingFeed'))!;
const ARBITRARY = '{ algorithms { id } }';
/** The contract's code, with the refusal's own reason (src/http/errors.ts keeps Yoga's codes as `reason`). */
const reasonsOf = (r: { errors?: { extensions?: Record<string, unknown> }[] }) => (r.errors ?? []).map((e) => `${e.extensions?.code}/${e.extensions?.reason}`);

const post = (g: Gateway, body: unknown, token: string) =>
  g.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });

test('off (the default): any operation runs, a hash alone does not', async () => {
  const g = await start();
  const token = await g.token('read');
  expect((await g.gql(ARBITRARY, {}, token)).errors).toBeUndefined();
  const byHash = await post(g, { extensions: { persistedQuery: { version: 1, sha256Hash: documentHash(dashboard()) } } }, token);
  expect(byHash.status).toBe(400);
});

test("enforce: the dashboard's own operations run, by text (any spacing) or by hash; any other is refused clearly", async () => {
  const g = await start({ TRUSTED_DOCUMENTS: 'enforce' });
  const token = await g.token('read');

  const text = await g.gql(dashboard(), {}, token);
  expect(text.errors).toBeUndefined();
  expect(text.data!.algorithms.length).toBeGreaterThan(0);
  // Reformatted (a client's printer): still the same trusted document.
  const reformatted = await g.gql(dashboard().replace(/\s+/g, '  '), {}, token);
  expect(reformatted.errors).toBeUndefined();

  const byHash = await post(g, { extensions: { persistedQuery: { version: 1, sha256Hash: documentHash(dashboard()) } } }, token);
  expect(byHash.status).toBe(200);
  expect(((await byHash.json()) as { data: { algorithms: unknown[] } }).data.algorithms.length).toBeGreaterThan(0);

  const other = await g.gql(ARBITRARY, {}, token);
  expect(reasonsOf(other)).toEqual(['BAD_USER_INPUT/PERSISTED_QUERY_ONLY']);
  expect(other.errors![0]!.message).toMatch(/not a trusted document.*TRUSTED_DOCUMENTS=enforce/);
  expect(other.data ?? null).toBeNull();
  // A trusted operation with something added is another document.
  const extended = await g.gql(dashboard().replace('algorithms {', 'apiClients { clientId } algorithms {'), {}, token);
  expect(reasonsOf(extended)).toEqual(['BAD_USER_INPUT/PERSISTED_QUERY_ONLY']);

  const unknownHash = await post(g, { extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } }, token);
  expect(reasonsOf((await unknownHash.json()) as never)).toEqual(['BAD_USER_INPUT/PERSISTED_QUERY_NOT_FOUND']);
});

test('enforce: every operation of the dashboard build passes the trust check, as the page sends it', async () => {
  const g = await start({ TRUSTED_DOCUMENTS: 'enforce' });
  const token = await g.token('all');
  const docs = dashboardDocuments().filter((d) => !d.startsWith('subscription'));
  expect(docs.length).toBeGreaterThan(30);
  for (const d of docs) {
    // No variables: many are refused for that (BAD_USER_INPUT), after the trust check let them through.
    const res = await g.gql(d, {}, token);
    expect(reasonsOf(res), d.slice(0, 40)).not.toContain('BAD_USER_INPUT/PERSISTED_QUERY_ONLY');
  }
});

test('allow: arbitrary operations run and trusted ones are also served by hash', async () => {
  const g = await start({ TRUSTED_DOCUMENTS: 'allow' });
  const token = await g.token('read');
  expect((await g.gql(ARBITRARY, {}, token)).errors).toBeUndefined();
  const byHash = await post(g, { extensions: { persistedQuery: { version: 1, sha256Hash: documentHash(dashboard()) } } }, token);
  expect(byHash.status).toBe(200);
});

test("TRUSTED_DOCUMENTS_FILE adds a frontend's operations, keyed by its own hashes; a bad file stops the start", async () => {
  const file = path.join(os.tmpdir(), `trusted-${process.pid}-${Date.now()}.json`);
  files.push(file);
  fs.writeFileSync(file, JSON.stringify({ hmi_v1_algorithms: ARBITRARY }));
  const g = await start({ TRUSTED_DOCUMENTS: 'enforce', TRUSTED_DOCUMENTS_FILE: file });
  const token = await g.token('read');
  expect((await g.gql(ARBITRARY, {}, token)).errors).toBeUndefined();
  const byId = await post(g, { documentId: 'hmi_v1_algorithms' }, token);
  expect(byId.status).toBe(200);
  expect(reasonsOf(await g.gql('{ algorithms { name } }', {}, token))).toEqual(['BAD_USER_INPUT/PERSISTED_QUERY_ONLY']);

  fs.writeFileSync(file, JSON.stringify({ broken: '{ algorithms { ' }));
  await expect(start({ TRUSTED_DOCUMENTS: 'enforce', TRUSTED_DOCUMENTS_FILE: file })).rejects.toThrow(/TRUSTED_DOCUMENTS_FILE.*"broken" does not parse/);
  expect(() => loadConfig({ TRUSTED_DOCUMENTS: 'strict' })).toThrow(/TRUSTED_DOCUMENTS must be one of off, allow, enforce/);
});

test('enforce over WebSocket: a trusted subscription runs, by text or hash; another operation is refused', async () => {
  const g = await start({ TRUSTED_DOCUMENTS: 'enforce' });
  const token = await g.token('read');
  const { url } = await g.server.start();
  const s = await rawSocket(`${url.replace('http', 'ws')}/graphql`);
  s.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
  await s.take('connection_ack');

  s.send({ id: 'other', type: 'subscribe', payload: { query: 'subscription { trainingProgress { progress } }' } });
  const refused = await s.take((m) => m.id === 'other');
  expect(refused.type).toBe('error');
  expect(reasonsOf({ errors: refused.payload })).toEqual(['BAD_USER_INPUT/PERSISTED_QUERY_ONLY']);

  s.send({ id: 'unknown', type: 'subscribe', payload: { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } } });
  expect(reasonsOf({ errors: (await s.take((m) => m.id === 'unknown')).payload })).toEqual(['BAD_USER_INPUT/PERSISTED_QUERY_NOT_FOUND']);

  // Trusted ones are accepted: the subscription stays open (no error), and completes when we stop it.
  s.send({ id: 'text', type: 'subscribe', payload: { query: trainingFeed() } });
  s.send({ id: 'hash', type: 'subscribe', payload: { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: documentHash(trainingFeed()) } } } });
  // A query after them answers in order on the same socket: by then both were accepted or refused.
  s.send({ id: 'probe', type: 'subscribe', payload: { query: dashboard() } });
  const probe = await s.take((m) => m.id === 'probe' && m.type === 'next');
  expect(probe.payload.errors).toBeUndefined();
  expect(probe.payload.data.algorithms.length).toBeGreaterThan(0);
  // Had either trusted subscription been refused, its error would have come before the probe's answer.
  s.send({ id: 'probe2', type: 'subscribe', payload: { query: dashboard() } });
  const first = await Promise.race([
    s.take((m) => (m.id === 'text' || m.id === 'hash') && m.type === 'error').then(() => 'refused'),
    s.take((m) => m.id === 'probe2' && m.type === 'complete').then(() => 'accepted'),
  ]);
  expect(first).toBe('accepted');
  s.ws.close();
  await s.closed;
});

test('the built-in allow-list is every operation of the dashboard build, each with the fragments it spreads', async () => {
  const file = new URL('../dist/dashboard/trusted-documents.json', import.meta.url);
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
  const docs = dashboardDocuments();
  expect(docs.sort()).toEqual(Object.values(manifest).sort());
  expect(docs.length).toBeGreaterThan(30);
  // Each one parses whole (no fragment it spreads is missing) and is known by its hash.
  const { parse, validate } = await import('graphql');
  const { schema } = await import('../src/schema/index.ts');
  for (const [hash, d] of Object.entries(manifest)) {
    expect(validate(schema, parse(d)), d.slice(0, 60)).toEqual([]);
    expect(documentHash(d)).toBe(hash);
  }
});
