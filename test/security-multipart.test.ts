import { afterAll, beforeAll, expect, test } from 'vitest';
import { startRestServer, type RestServer } from './rest-helpers.ts';

/**
 * Attack 6 of issue 9: GraphQL multipart bodies were buffered whole (up to ~2 GiB) before the
 * per-file limit applied. Per-file and count limits now stop the parse as soon as they are passed.
 */
let s: RestServer;
beforeAll(async () => {
  s = await startRestServer({ UPLOAD_MAX_FILE_BYTES: String(1024 * 1024), UPLOAD_MAX_FILES: '2' });
});
afterAll(() => s?.stop());

const boundary = 'spectro-security-boundary';
const enc = new TextEncoder();

/** An addItems upload of `files` files of `mib` MiB each, produced only as fast as it is read. */
function upload(files: number, mib: number) {
  const ops = {
    query: 'mutation($f: [File!]!) { addItems(files: $f, training: true) { items { id } } }',
    variables: { f: Array(files).fill(null) },
  };
  const map = Object.fromEntries(Array.from({ length: files }, (_, i) => [String(i), [`variables.f.${i}`]]));
  const parts: (() => Uint8Array)[] = [
    () =>
      enc.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify(ops)}\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n${JSON.stringify(map)}\r\n`,
      ),
  ];
  const chunk = new Uint8Array(1024 * 1024).fill(7);
  for (let f = 0; f < files; f++) {
    parts.push(() => enc.encode(`--${boundary}\r\nContent-Disposition: form-data; name="${f}"; filename="p${f}.png"\r\nContent-Type: image/png\r\n\r\n`));
    for (let i = 0; i < mib; i++) parts.push(() => chunk);
    parts.push(() => enc.encode('\r\n'));
  }
  parts.push(() => enc.encode(`--${boundary}--\r\n`));
  const state = { pulled: 0, total: parts.length };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = parts[state.pulled++];
        if (next) controller.enqueue(next());
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
  return { body, state };
}

const send = (u: ReturnType<typeof upload>) =>
  fetch(`${s.url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.token}`, 'x-graphql-yoga-csrf': '1', 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: u.body,
    duplex: 'half',
  } as RequestInit);

test('a file past the per-file limit stops the parse: 413, most of the body never read', async () => {
  const u = upload(1, 256);
  const res = await send(u);
  expect(res.status).toBe(413);
  expect(JSON.stringify(await res.json())).toMatch(/larger than 1048576 bytes/);
  // 256 MiB were on offer; the parse stopped after the first MiB or so (plus socket buffers).
  expect(u.state.pulled).toBeLessThan(16);
  await u.body.cancel().catch(() => {});
});

test('more files than allowed stops the parse at the first one too many', async () => {
  const u = upload(40, 1);
  const res = await send(u);
  expect(res.status).toBe(413);
  expect(JSON.stringify(await res.json())).toMatch(/more than 2 files/);
  expect(u.state.pulled).toBeLessThan(u.state.total / 2);
  await u.body.cancel().catch(() => {});
});

test('an upload within the limits still works', async () => {
  const { png } = await import('./rest-helpers.ts');
  const form = new FormData();
  form.append(
    'operations',
    JSON.stringify({ query: 'mutation($f: [File!]!) { addItems(files: $f, training: true) { items { id } } }', variables: { f: [null] } }),
  );
  form.append('map', JSON.stringify({ 0: ['variables.f.0'] }));
  form.append('0', new Blob([new Uint8Array(await png(1))], { type: 'image/png' }), 'p.png');
  const res = await fetch(`${s.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'x-graphql-yoga-csrf': '1' }, body: form });
  const body = await res.json();
  expect(body.errors).toBeUndefined();
  expect(body.data.addItems.items).toHaveLength(1);
});
