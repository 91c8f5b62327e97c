import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createUrlSigner } from '../src/runtime/images/signed-url.ts';
import { codesOf, dataOf, startGateway, testImage, type Gateway, type GraphResult } from './graph-helpers.ts';

// Uploads go through a real HTTP server: the multipart parsing is part of what is tested.

const ADD = /* GraphQL */ `
  mutation Add($files: [File!]!, $training: Boolean!, $good: Boolean, $targetId: ID) {
    addItems(files: $files, training: $training, good: $good, targetId: $targetId) {
      items { id name isTrainingData good target { id name isDefault } images { name url width height fileSize contentType } }
    }
  }
`;

interface Upload {
  name: string;
  bytes: Buffer;
  type: string;
}

let g: Gateway;
let base: string;
let token: string;

beforeAll(async () => {
  g = await startGateway({ upload: { maxFileBytes: 100_000, maxFiles: 30, maxPixels: 256 * 256 } });
  ({ url: base } = await g.server.start());
  token = await g.token('all');
});
afterAll(() => g?.close());

async function upload(files: Upload[], variables: Record<string, unknown>, opts: { csrf?: boolean; bearer?: boolean; as?: string } = {}): Promise<GraphResult> {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: ADD, variables: { ...variables, files: files.map(() => null) } }));
  form.set('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.files.${i}`]]))));
  files.forEach((f, i) => form.set(String(i), new Blob([new Uint8Array(f.bytes)], { type: f.type }), f.name));
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    body: form,
    headers: {
      ...(opts.bearer === false ? {} : { authorization: `Bearer ${opts.as ?? token}` }),
      ...(opts.csrf === false ? {} : { 'x-graphql-yoga-csrf': '1' }),
    },
  });
  return { status: res.status, headers: res.headers, ...((await res.json()) as object) };
}

const blobFiles = () => {
  const dir = path.join(g.config.dataDir, 'blobs');
  return fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length : 0;
};
const itemCount = async () => {
  const { store } = g.server.services;
  const counts = await Promise.all((['TRAINING', 'PREDICTION'] as const).map((type) => store.listItems({ type }, { first: 1 }).then((p) => p.totalCount)));
  return counts[0]! + counts[1]!;
};

describe('20 mixed PNG/JPEG pictures in one request', () => {
  let files: Upload[];
  let added: any[];

  test('are stored as items of the default target, created on the fly', async () => {
    files = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const png = i % 2 === 0;
        return { name: `part-${i}.${png ? 'png' : 'jpg'}`, bytes: await testImage(png ? 'png' : 'jpeg', i), type: png ? 'image/png' : 'image/jpeg' };
      }),
    );
    const res = await upload(files, { training: true, good: true });
    added = dataOf<any>(res).addItems.items;
    expect(added.map((i) => i.name)).toEqual(files.map((f) => f.name));
    expect(added.every((i) => i.isTrainingData && i.good === true)).toBe(true);
    expect(new Set(added.map((i) => i.target.id)).size).toBe(1);
    expect(added[0].target).toMatchObject({ name: 'default', isDefault: true });
    expect(added[3].images[0]).toMatchObject({ name: 'part-3.jpg', width: 64, height: 64, contentType: 'image/jpeg', fileSize: files[3]!.bytes.length });
  });

  test('read back through items with nested fields, newest first', async () => {
    const res = await g.gql<any>(
      `{ items(type: TRAINING, first: 50) { totalCount pageInfo { hasNextPage }
           edges { cursor node { id name target { name } images { url contentType width } assessments { id } userAssessment { result annotations { id } } } } } }`,
      {},
      token,
    );
    const { items } = dataOf(res);
    expect(items.totalCount).toBe(20);
    expect(items.pageInfo.hasNextPage).toBe(false);
    expect(new Set(items.edges.map((e: any) => e.node.id))).toEqual(new Set(added.map((i) => i.id)));
    const node = items.edges[0].node;
    expect(node).toMatchObject({ target: { name: 'default' }, assessments: [], userAssessment: { result: 'GOOD', annotations: [] } });
  });

  test('pages with first/after', async () => {
    const first = dataOf(await g.gql<any>('{ items(type: TRAINING, first: 15) { edges { node { id } } pageInfo { hasNextPage endCursor } } }', {}, token));
    expect(first.items.pageInfo.hasNextPage).toBe(true);
    const rest = dataOf(
      await g.gql<any>(
        'query($a: String) { items(type: TRAINING, first: 15, after: $a) { edges { node { id } } pageInfo { hasNextPage } } }',
        { a: first.items.pageInfo.endCursor },
        token,
      ),
    );
    expect(rest.items.edges).toHaveLength(5);
    expect(rest.items.pageInfo.hasNextPage).toBe(false);
  });

  test('image URLs serve the stored bytes with their content type, with no headers', async () => {
    for (const [i, item] of added.entries()) {
      const res = await fetch(item.images[0].url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(files[i]!.type);
      expect(Buffer.from(await res.arrayBuffer()).equals(files[i]!.bytes)).toBe(true);
    }
  });

  test('a tampered or expired URL gets 403', async () => {
    const url = new URL(added[0].images[0].url);
    const other = new URL(added[1].images[0].url);
    const swapped = `${base}${other.pathname}${url.search}`;
    const badSig = `${base}${url.pathname}?exp=${url.searchParams.get('exp')}&sig=${'A'.repeat(43)}`;
    const laterExp = `${base}${url.pathname}?exp=${Number(url.searchParams.get('exp')) + 3600}&sig=${url.searchParams.get('sig')}`;
    const unsigned = `${base}${url.pathname}`;
    const secret = (await g.server.services.store.getSetting('http.urlSecret'))!;
    const expired = `${base}${createUrlSigner({ secret, ttlSeconds: -60 }).sign(url.pathname)}`;
    for (const bad of [swapped, badSig, laterExp, unsigned, expired]) {
      expect((await fetch(bad)).status, bad).toBe(403);
    }
    expect((await fetch(url)).status).toBe(200);
  });
});

describe('bad uploads are refused whole: right code, the file named, nothing stored', () => {
  const cases: [string, () => Promise<Upload>, string][] = [
    ['a corrupt image', async () => ({ name: 'broken.png', bytes: (await testImage('png', 99)).subarray(0, 300), type: 'image/png' }), 'UNSUPPORTED_MEDIA'],
    [
      'a text file renamed .png',
      async () => ({ name: 'notes.png', bytes: Buffer.from('just some text, not a picture\n'.repeat(20)), type: 'image/png' }),
      'UNSUPPORTED_MEDIA',
    ],
    [
      'a file over the size limit',
      async () => {
        const noise = randomBytes(200 * 200 * 3); // incompressible: the PNG stays over 100 kB
        return {
          name: 'huge.png',
          bytes: await sharp(noise, { raw: { width: 200, height: 200, channels: 3 } })
            .png()
            .toBuffer(),
          type: 'image/png',
        };
      },
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'a picture with too many pixels',
      async () => ({
        name: 'bomb.png',
        bytes: await sharp({ create: { width: 300, height: 300, channels: 3, background: '#808080' } })
          .png()
          .toBuffer(),
        type: 'image/png',
      }),
      'PAYLOAD_TOO_LARGE',
    ],
  ];

  test.each(cases)('%s', async (_label, make, code) => {
    const bad = await make();
    const good = [await testImage('png', 200), await testImage('jpeg', 201)];
    const before = { items: await itemCount(), blobs: blobFiles() };
    const res = await upload([{ name: 'ok-1.png', bytes: good[0]!, type: 'image/png' }, bad, { name: 'ok-2.jpg', bytes: good[1]!, type: 'image/jpeg' }], {
      training: true,
    });
    expect(codesOf(res)).toEqual([code]);
    expect(res.errors![0]!.message).toContain(bad.name);
    expect(res.errors![0]!.extensions?.file).toBe(bad.name);
    expect(res.data ?? null).toBeNull();
    expect(await itemCount()).toBe(before.items);
    expect(blobFiles()).toBe(before.blobs);
  });

  test('more files than allowed: PAYLOAD_TOO_LARGE', async () => {
    const png = await testImage('png', 5, 8);
    const res = await upload(
      Array.from({ length: 31 }, (_, i) => ({ name: `f${i}.png`, bytes: png, type: 'image/png' })),
      { training: true },
    );
    expect(codesOf(res)).toEqual(['PAYLOAD_TOO_LARGE']);
  });

  test('an unknown target: NOT_FOUND, nothing stored', async () => {
    const before = { items: await itemCount(), blobs: blobFiles() };
    const res = await upload([{ name: 'x.png', bytes: await testImage('png', 300), type: 'image/png' }], {
      training: false,
      targetId: '01890000-0000-7000-8000-000000000000',
    });
    expect(codesOf(res)).toEqual(['NOT_FOUND']);
    expect(await itemCount()).toBe(before.items);
    expect(blobFiles()).toBe(before.blobs);
  });

  test('a multipart request with neither its bearer token nor a CSRF header (what a forged form sends) is refused (FORBIDDEN)', async () => {
    const before = await itemCount();
    const res = await upload([{ name: 'x.png', bytes: await testImage('png', 301), type: 'image/png' }], { training: true }, { csrf: false, bearer: false });
    expect(res.status).toBe(403);
    expect(codesOf(res)).toEqual(['FORBIDDEN']);
    expect(res.errors![0]!.message).toMatch(/CSRF/);
    expect(await itemCount()).toBe(before);
  });

  test('each scope uploads what its mutation allows: an operator (predict) adds pictures to judge, not training pictures; an engineer (train) training pictures', async () => {
    const operator = await g.token('read predict');
    const engineer = await g.token('read train');
    const pic = async (seed: number) => [{ name: `p${seed}.png`, bytes: await testImage('png', seed), type: 'image/png' }];
    const before = await itemCount();
    expect((await upload(await pic(311), { training: false }, { as: operator })).errors).toBeUndefined();
    expect(codesOf(await upload(await pic(312), { training: true }, { as: operator }))).toEqual(['FORBIDDEN']);
    expect((await upload(await pic(313), { training: true, good: true }, { as: engineer })).errors).toBeUndefined();
    expect(await itemCount()).toBe(before + 2);
  });

  test('a multipart request carrying its bearer token needs no CSRF header (a browser preflights it)', async () => {
    const before = await itemCount();
    const res = await upload([{ name: 'x.png', bytes: await testImage('png', 302), type: 'image/png' }], { training: true }, { csrf: false });
    expect(res.errors).toBeUndefined();
    expect(await itemCount()).toBe(before + 1);
  });
});
