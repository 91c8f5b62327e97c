import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStore, type S3Options, type StoreBlobs, type StoreOf } from '../src/runtime/store/index.ts';
import type { ItemRecord } from '../src/runtime/store/types.ts';
import { deferred } from './realtime-helpers.ts';
import { startS3Server, type S3Server } from './s3-server.ts';
import { POSTGRES_OFF, scratchSchema, type ScratchSchema } from './store-engines.ts';

// The contract of the blob store (runtime/store/blobs.ts) for every backend and database: files
// under DATA_DIR, and a real S3-compatible server (s3rver) on SQLite and on PostgreSQL. Rows that
// name blobs are real items; a second store on the same database and objects plays another
// instance of the deployment.

type Backend = 'files' | 's3';
const cases: [Backend, 'sqlite' | 'postgres'][] = [
  ['files', 'sqlite'],
  ['s3', 'sqlite'],
  ...(POSTGRES_OFF ? [] : [['s3', 'postgres'] as [Backend, 'postgres']]),
];

let s3: S3Server;
beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3?.stop();
});

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe.each(cases)('blob store (%s on %s)', (backend, engine) => {
  let dir: string;
  let schema: ScratchSchema | null = null;
  let bucket: (S3Options & { env: Record<string, string> }) | null = null;
  const open: StoreOf<StoreBlobs>[] = [];
  let store: StoreOf<StoreBlobs>;
  let blobs: StoreBlobs;
  let targetId: string;

  /** Another instance: same database, same objects, its own process state. */
  const instance = async () => {
    const s = await createStore({ dataDir: dir, databaseUrl: schema?.url ?? null, s3: bucket, sweepAtStart: false });
    open.push(s);
    return s;
  };
  const setUp = async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-blobs-'));
    schema = engine === 'postgres' ? await scratchSchema() : null;
    bucket = backend === 's3' ? await s3.bucket() : null;
    store = await instance();
    blobs = store.blobs;
    targetId = (await store.createTarget('t', [])).id;
  };
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await schema?.drop();
    schema = null;
    if (bucket) await s3.drop(bucket.bucket);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** An item whose picture is `key`: a row that names the blob. */
  const name = async (key: string, s = store): Promise<ItemRecord> =>
    (
      await s.addItems([
        {
          name: 'x.png',
          targetId,
          type: 'TRAINING',
          good: true,
          images: [{ name: 'x.png', blob: key, width: 1, height: 1, fileSize: 1, contentType: 'image/png' }],
        },
      ])
    )[0]!;

  it('stores content under its sha256 once, from bytes or a staged file, and reads it back every way', async () => {
    await setUp();
    const key = await blobs.put(Buffer.from('abc'));
    expect(key).toBe(sha('abc'));
    expect(await blobs.put(Buffer.from('abc'))).toBe(key);
    const staged = path.join(blobs.tmpDir, 'staged');
    fs.writeFileSync(staged, 'xyz');
    expect(await blobs.putFile(staged)).toEqual({ key: sha('xyz'), size: 3, created: true });
    expect(fs.existsSync(staged)).toBe(false);
    fs.writeFileSync(staged, 'xyz');
    expect((await blobs.putFile(staged)).created).toBe(false);
    expect(fs.existsSync(staged)).toBe(false);

    // A fresh instance reads what this one wrote (no cache or memory of it).
    const other = (await instance()).blobs;
    expect((await other.get(key)).toString()).toBe('abc');
    expect(await text(await other.stream(key))).toBe('abc');
    expect(await other.size(key)).toBe(3);
    expect(fs.readFileSync(await other.localPath(key), 'utf8')).toBe('abc');
    expect(await other.has(key)).toBe(true);

    const missing = sha('never stored');
    expect(await blobs.has(missing)).toBe(false);
    expect(await blobs.size(missing)).toBeNull();
    await expect(blobs.stream(missing)).rejects.toThrow();
    await expect(blobs.localPath(missing)).rejects.toThrow();
    expect(await blobs.has('../../etc/passwd')).toBe(false);
    expect(await blobs.size('../x')).toBeNull();
    await expect(blobs.get('../x')).rejects.toThrow(/invalid blob key/);

    expect(await blobs.delete(key)).toBe(true);
    expect(await other.has(key)).toBe(false);
  });

  it('streams a file larger than one upload part and reads back the same bytes', async () => {
    await setUp();
    const big = Buffer.alloc(9 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    const staged = path.join(blobs.tmpDir, 'big');
    fs.writeFileSync(staged, big);
    const { key, size } = await blobs.putFile(staged);
    expect(size).toBe(big.length);
    const back = await (await instance()).blobs.get(key);
    expect(createHash('sha256').update(back).digest('hex')).toBe(key);
  });

  it('removes only what no row names and no request holds, on any instance', async () => {
    await setUp();
    const other = (await instance()).blobs;
    const named = await blobs.put(Buffer.from('named'));
    const held = await blobs.put(Buffer.from('held'), { hold: true });
    const loose = await blobs.put(Buffer.from('loose'));
    await name(named);
    // The other instance may not take what this one holds.
    expect(await other.deleteUnreferenced([named, held, loose])).toEqual([loose]);
    blobs.release([held]);
    expect(await blobs.deleteUnreferenced([named, held])).toEqual([held]);
    expect(await other.has(named)).toBe(true);
  });

  it('a blob another instance is deleting is written again by an upload of the same bytes, after the deletion', async () => {
    await setUp();
    const other = await instance();
    const key = await blobs.put(Buffer.from('shared bytes'));
    // The other instance marks the key (its reference check found no row), and is slow to remove it.
    const guard = other.blobs.guard;
    const { keys, token } = await guard.condemn([key]);
    expect(keys).toEqual([key]);
    const upload = blobs.put(Buffer.from('shared bytes'), { hold: true });
    const settled = deferred<'put'>();
    void upload.then(() => settled.resolve('put'));
    // The upload waits for the deletion in progress…
    expect(await Promise.race([settled.promise, new Promise((r) => setTimeout(() => r('waiting'), 300))])).toBe('waiting');
    await other.blobs.delete(key);
    await guard.settle(keys, token);
    // …then stores the bytes again, and its row names a blob that is there.
    expect(await upload).toBe(key);
    await name(key);
    blobs.release([key]);
    expect(await (await instance()).blobs.has(key)).toBe(true);
    expect(await other.blobs.deleteUnreferenced([key])).toEqual([]);
  });

  it('sweeps what nothing names or holds, sparing blobs younger than the grace period', async () => {
    await setUp();
    const keys = {
      named: await blobs.put(Buffer.from('named')),
      held: await blobs.put(Buffer.from('held'), { hold: true }),
      loose: await blobs.put(Buffer.from('loose')),
    };
    await name(keys.named);
    const other = (await instance()).blobs;
    expect(await other.sweep({ olderThanMs: 3600_000 })).toBe(0);
    expect(await other.sweep({ olderThanMs: 0 })).toBe(1);
    expect(await blobs.has(keys.loose)).toBe(false);
    expect(await other.has(keys.named)).toBe(true);
    expect(await other.has(keys.held)).toBe(true);
  });

  it.skipIf(backend !== 'files')('an old unnamed blob written again is young again: the sweep spares it', async () => {
    await setUp();
    const key = await blobs.put(Buffer.from('download'));
    const old = await blobs.put(Buffer.from('old'));
    const past = new Date(Date.now() - 2 * 3600_000);
    for (const k of [key, old]) fs.utimesSync(blobs.path!(k), past, past);
    await blobs.put(Buffer.from('download')); // the same export made again
    expect(await blobs.sweep({ olderThanMs: 3600_000 })).toBe(1);
    expect(await blobs.has(key)).toBe(true);
    expect(await blobs.has(old)).toBe(false);
  });

  it.skipIf(backend !== 's3')('presigns a download straight from the bucket, with the type and name asked for', async () => {
    await setUp();
    const key = await blobs.put(Buffer.from('a,b\n1,2\n'));
    const url = await blobs.presign(key, { ttlSeconds: 60, contentType: 'text/csv', filename: 'results.csv' });
    const res = await fetch(url!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv');
    expect(res.headers.get('content-disposition')).toContain('results.csv');
    expect(await res.text()).toBe('a,b\n1,2\n');
  });
});
