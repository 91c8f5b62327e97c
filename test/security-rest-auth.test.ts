import { afterAll, beforeAll, expect, test } from 'vitest';
import { startRestServer, type RestServer } from './rest-helpers.ts';

/**
 * Attack 1 of issue 9: REST write routes must refuse an anonymous caller (401) before anything of
 * the body is read, whatever the body's size, media type or path encoding.
 */
let s: RestServer;
beforeAll(async () => {
  s = await startRestServer();
});
afterAll(() => s?.stop());

/** A body of `mib` MiB that is only produced as fast as the server reads it. */
function lazyBody(mib: number) {
  const chunk = new Uint8Array(1024 * 1024).fill(7);
  const state = { pulled: 0 };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (state.pulled++ < mib) controller.enqueue(chunk);
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
  return { body, state };
}

const WRITES: [string, string][] = [
  ['POST', '/api/v1/items/'],
  ['POST', '/api/v1/models/import'],
  ['POST', '/api/v1/models/export'],
  ['POST', '/api/v1/algorithms/a/train'],
  ['PATCH', '/api/v1/items/1'],
  ['DELETE', '/api/v1/items/'],
  ['DELETE', '/api/v1/models/'],
  ['POST', '/api/v1/targets/model/results'],
  ['POST', '/api/v1/utils/'],
  ['POST', '/api/v1/models/1/predict'],
];

test('an anonymous upload to a REST write route is refused with 401 before its body is read', async () => {
  for (const [method, path] of WRITES) {
    const upload = lazyBody(64);
    const res = await fetch(`${s.url}${path}`, {
      method,
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      body: upload.body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status, `${method} ${path}`).toBe(401);
    await res.body?.cancel();
    // 64 MiB were on offer; only what sits in the socket buffers may have been taken.
    expect(upload.state.pulled, `${method} ${path}`).toBeLessThan(8);
    await upload.body.cancel().catch(() => {});
  }
});

test('anonymous callers get 401, not 415 or 422, for a wrong media type, a bad body or a malformed path', async () => {
  for (const [method, path] of [...WRITES, ['PATCH', '/api/v1/items/%E0%A4%A'] as [string, string]]) {
    for (const [type, body] of [
      ['text/plain', 'hello'],
      ['application/json', '{not json'],
    ]) {
      const res = await fetch(`${s.url}${path}`, { method, headers: { 'content-type': type! }, body });
      expect(res.status, `${method} ${path} ${type}`).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
  }
  // Once authenticated, the malformed path is the caller's fault and says so.
  const res = await s.call('PATCH', '/api/v1/items/%E0%A4%A', { json: {} });
  expect(res.status).toBe(422);
});
