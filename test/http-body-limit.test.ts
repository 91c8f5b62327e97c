import { afterAll, beforeAll, expect, test } from 'vitest';
import { MAX_OPERATION_BODY_BYTES } from '../src/http/body-limit.ts';
import { startGateway, type Gateway } from './graph-helpers.ts';

let g: Gateway;
beforeAll(async () => {
  g = await startGateway();
});
afterAll(() => g?.close());

// Variables padded past the limit; no token, so nothing but the body size can refuse it.
const oversize = () => JSON.stringify({ query: '{ __typename }', variables: { x: 'a'.repeat(MAX_OPERATION_BODY_BYTES) } });

test('a JSON body past the operation limit is refused with 413 PAYLOAD_TOO_LARGE, also when chunked', async () => {
  const sized = await g.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(oversize())) },
    body: oversize(),
  });
  expect(sized.status).toBe(413);
  expect((await sized.json()).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');

  const bytes = new TextEncoder().encode(oversize());
  const chunked = await g.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: new ReadableStream({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024));
        controller.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);
  expect(chunked.status).toBe(413);
  expect((await chunked.json()).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');

  // A body under the limit still runs.
  const small = await g.gql('{ __typename }', { x: 'a'.repeat(1000) });
  expect(small.errors).toBeUndefined();
  expect(small.data).toEqual({ __typename: 'Query' });
});

/** A multipart addItems body of `chunks` MiB, produced only as fast as it is read. */
function uploadBody(chunks: number) {
  const boundary = 'spectro-test-boundary';
  const enc = new TextEncoder();
  const head = enc.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n` +
      '{"query":"mutation($f: [File!]!) { addItems(files: $f, training: true) { items { id } } }","variables":{"f":[null]}}\r\n' +
      `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.f.0"]}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`,
  );
  const chunk = new Uint8Array(1024 * 1024).fill(7);
  const state = { pulled: 0 };
  let sent = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        state.pulled++;
        if (sent === 0) controller.enqueue(head);
        if (sent++ < chunks) controller.enqueue(chunk);
        else {
          controller.enqueue(enc.encode(`\r\n--${boundary}--\r\n`));
          controller.close();
        }
      },
    },
    { highWaterMark: 0 },
  );
  return { body, state, contentType: `multipart/form-data; boundary=${boundary}` };
}

test('an upload without a token, or with a read-only one, is refused before its body is read', async () => {
  const reader = await g.token('read');
  for (const [authorization, code, status] of [
    [null, 'UNAUTHENTICATED', 401],
    ['Bearer forged.token.here', 'UNAUTHENTICATED', 401],
    [`Bearer ${reader}`, 'FORBIDDEN', 403],
  ] as const) {
    const upload = uploadBody(64);
    const res = await g.fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': upload.contentType,
        'x-graphql-yoga-csrf': '1',
        ...(authorization ? { authorization } : {}),
      },
      body: upload.body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status, String(authorization)).toBe(status);
    expect((await res.json()).errors[0].extensions.code).toBe(code);
    // 64 MiB were on offer; at most the first pieces may have been buffered.
    expect(upload.state.pulled, String(authorization)).toBeLessThan(4);
    await upload.body.cancel().catch(() => {});
  }
  expect(await g.server.services.store.listTargets()).toEqual([]);
});
