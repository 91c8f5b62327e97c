import http from 'node:http';
import { afterAll, expect, test } from 'vitest';
import { startGateway, type Gateway } from './graph-helpers.ts';

let g: Gateway | null = null;
afterAll(() => g?.close());

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

test('stop() stops accepting, lets the in-flight request finish, then closes everything', async () => {
  g = await startGateway();
  const { port } = await g.server.start();
  const token = await g.token('read');

  const arrived = deferred();
  g.server.httpServer.once('request', () => arrived.resolve());

  const body = JSON.stringify({ query: '{ nodeHash }' });
  const response = deferred<{ status: number; text: string }>();
  const req = http.request(
    {
      host: '127.0.0.1',
      port,
      path: '/graphql',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
    },
    (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => response.resolve({ status: res.statusCode!, text }));
    },
  );
  req.write(body.slice(0, 5)); // the request is in flight: headers sent, body not finished
  await arrived.promise;

  let stopped = false;
  const stopping = g.server.stop().then(() => (stopped = true));

  // No new connections once stopping began.
  const refused = await new Promise<string>((resolve) => {
    const probe = http.get({ host: '127.0.0.1', port, path: '/health' }, () => resolve('answered'));
    probe.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
  expect(refused).toBe('ECONNREFUSED');
  expect(stopped).toBe(false);

  req.end(body.slice(5));
  const res = await response.promise;
  expect(res.status).toBe(200);
  expect(JSON.parse(res.text).data.nodeHash).toMatch(/^[0-9a-f]{64}$/);

  await stopping;
  expect(await g.server.services.store.ping().catch(() => false)).toBe(false);
});
