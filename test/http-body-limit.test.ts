import { afterAll, beforeAll, expect, test } from 'vitest';
import { MAX_OPERATION_BODY_BYTES } from '../src/http/body-limit.ts';
import { startGateway, type Gateway } from './graph-helpers.ts';

let g: Gateway;
beforeAll(async () => {
  g = await startGateway();
});
afterAll(() => g?.close());

// Variables padded past the limit; no token, so nothing but the body size can refuse it.
const oversize = () =>
  JSON.stringify({ query: '{ __typename }', variables: { x: 'a'.repeat(MAX_OPERATION_BODY_BYTES) } });

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
