import fs from 'node:fs';
import net from 'node:net';
import { expect, test } from 'vitest';
import { codesOf, gatewaysPerTest, testImage } from './graph-helpers.ts';
import { newModel } from './model-fixtures.ts';
import { deferred } from './realtime-helpers.ts';
import { spawnGateway } from './gateway-process.ts';

/** The smaller findings of issue 9's attack 12, each reproduced. */
const start = gatewaysPerTest();

test('a malformed percent-escape in an /upstream/ path answers 400, not 500', async () => {
  const g = await start();
  const res = await g.fetch('/upstream/%E0%A4%A/api/v1/items');
  expect(res.status).toBe(400);
  expect(JSON.stringify(await res.json())).toMatch(/not valid percent-encoding/);
});

test('a malformed JSON body is not echoed back (originalError names the cause, never quotes the body)', async () => {
  const g = await start();
  const res = await g.fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": "{ x }", s3cr3t-body-bytes' });
  expect(res.status).toBe(400);
  const text = await res.text();
  expect(text).not.toContain('s3cr3t-body-bytes');
  const [error] = JSON.parse(text).errors;
  expect(error.message).toMatch(/invalid JSON/);
  expect(error.extensions.originalError).toEqual({ name: 'SyntaxError' });
});

test('NUL and other control characters are refused in item (file) names, target names and labels', async () => {
  const g = await start();
  const token = await g.token('all');
  // Written by hand: FormData would percent-encode some of these characters in the file name.
  const upload = async (name: string) => {
    const boundary = 'b0undary';
    const operations = JSON.stringify({
      query: 'mutation ($files: [File!]!) { addItems(files: $files, training: true, good: true) { items { id name } } }',
      variables: { files: [null] },
    });
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.files.0"]}\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="${name}"\r\nContent-Type: image/png\r\n\r\n`, 'utf8'),
      await testImage('png', 1),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await g.fetch('/graphql', {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${token}`, 'x-graphql-yoga-csrf': '1', 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    return (await res.json()) as {
      data?: { addItems: { items: { name: string }[] } } | null;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    };
  };
  for (const bad of ['part\u0000.png', 'tab\u0009.png', 'esc\u001b[31m.png', 'c1\u0085.png', 'del\u007f.png']) {
    const r = await upload(bad);
    expect(codesOf(r as never), JSON.stringify(bad)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors![0]!.message).toMatch(/control characters/);
    // The message shows the name escaped, never the raw character.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters must not be in the message
    expect(r.errors![0]!.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  }
  expect((await upload('fine name é.png')).data!.addItems.items[0]!.name).toBe('fine name é.png');

  const target = await g.gql('mutation ($n: String!) { createTarget(name: $n) { id } }', { n: 'line\u0000A' }, token);
  expect(codesOf(target)).toEqual(['BAD_USER_INPUT']);
});

test('a slow anonymous body does not hold its connection once the request is refused', async () => {
  const g = await start();
  const { port } = await g.server.start();
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const closed = deferred();
  let answer = '';
  socket.on('data', (c) => (answer += c.toString()));
  socket.on('close', () => closed.resolve());
  socket.write('POST /api/v1/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 104857600\r\n\r\n');
  socket.write(Buffer.alloc(1024));
  // The sender goes on trickling; the server answered 401 and closes without waiting for the rest.
  const trickle = setInterval(() => socket.writable && socket.write(Buffer.alloc(16)), 200);
  try {
    await closed.promise;
  } finally {
    clearInterval(trickle);
  }
  expect(answer).toMatch(/^HTTP\/1\.1 401/);
});

test('an upload of a few pictures refused for its missing token reaches a fetch client as its 401, not as a connection reset', async () => {
  // its own process: a client sharing the server's event loop never races the answer
  const gw = await spawnGateway({ command: ['node', 'src/main.ts'] });
  try {
    const operations = JSON.stringify({ query: 'mutation ($f: [File!]!) { addItems(files: $f, training: true) { items { id } } }', variables: { f: [null] } });
    // 1 and 3 MiB: camera pictures, more than the socket takes before the answer comes
    for (const size of [1, 1, 1, 3, 3, 3].map((m) => m * 1024 * 1024)) {
      const form = new FormData();
      form.set('operations', operations);
      form.set('map', JSON.stringify({ 0: ['variables.f.0'] }));
      form.set('0', new Blob([new Uint8Array(size).fill(7)], { type: 'image/png' }), 'frame.png');
      const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'x-graphql-yoga-csrf': '1' }, body: form });
      expect(res.status).toBe(401);
      expect((await res.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
  } finally {
    await gw.crash();
    fs.rmSync(gw.dataDir, { recursive: true, force: true });
  }
});

test('the HTTP server bounds how long headers and whole requests may take (HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS)', async () => {
  const d = await start();
  expect(d.server.httpServer.headersTimeout).toBe(10_000);
  expect(d.server.httpServer.requestTimeout).toBe(300_000);
  const g = await start({ HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '60000' });
  expect(g.server.httpServer.headersTimeout).toBe(1000);
  expect(g.server.httpServer.requestTimeout).toBe(60_000);
  // Headers that never end: the connection is answered 408 and closed.
  const { port } = await g.server.start();
  const socket = net.connect(port, '127.0.0.1');
  const closed = deferred();
  let answer = '';
  socket.on('data', (c) => (answer += c.toString()));
  socket.on('close', () => closed.resolve());
  socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
  await closed.promise;
  expect(answer).toMatch(/^HTTP\/1\.1 408/);
});

test('Item.assessments is bounded (first: default 20, at most 100), counted apart, and a literal first weighs in the cost limit', async () => {
  const g = await start();
  const token = await g.token('all');
  const { store } = g.server.services;
  const targetId = (await store.createTarget('many-assessments', [])).id;
  const [algorithm] = await store.listAlgorithms();
  const model = await store.createModel(
    newModel({
      name: 'm',
      algorithmId: algorithm!.id,
      targetId,
      status: 'READY',
      predictParameters: { threshold: 0.4, ignoreOuter: 0, minDetectedArea: 0 },
      okImageCount: 5,
      ngImageCount: 1,
    }),
  );
  const [item] = await store.addItems([{ name: 'x', targetId, type: 'PREDICTION', good: null, images: [] }]);
  await store.addAssessments(
    Array.from({ length: 150 }, () => ({
      itemId: item!.id,
      modelId: model.id,
      result: 'GOOD' as const,
      label: null,
      score: 0.1,
      threshold: 0.4,
      detectedObjects: 0,
      detectionAccuracy: null,
      annotations: [],
      images: [],
    })),
  );
  const q = (args: string) =>
    g.gql(`query ($id: ID!) { node(id: $id) { ... on Item { assessmentCount assessments${args} { id } } } }`, { id: item!.id }, token);

  const byDefault = await q('');
  expect(byDefault.errors).toBeUndefined();
  expect(byDefault.data!.node.assessments).toHaveLength(20);
  expect(byDefault.data!.node.assessmentCount).toBe(150);
  expect((await q('(first: 100)')).data!.node.assessments).toHaveLength(100);
  expect(codesOf(await q('(first: 101)'))).toEqual(['BAD_USER_INPUT']);
  expect(codesOf(await q('(first: 0)'))).toEqual(['BAD_USER_INPUT']);

  // 100 assessments of 100 items, each with its annotations: the cost limit refuses the query before it runs.
  const heavy = await g.gql(
    '{ items(first: 100) { edges { node { assessments(first: 100) { id score result annotations { label score } images { url width height } } } } } }',
    {},
    token,
  );
  expect(codesOf(heavy)).toEqual(['BAD_USER_INPUT']);
  expect(heavy.errors![0]!.message).toMatch(/cost/i);
});
