import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import type { BlobStore, ReferencedKeys } from '../src/runtime/store/blobs.ts';
import { createBlobStore } from '../src/runtime/store/file-blob-store.ts';

// The contract of a blob store (runtime/store/blobs.ts), for every implementation: files under
// DATA_DIR today; an object store joins this list and passes the same tests.
const implementations: [string, (dir: string, referenced: ReferencedKeys) => BlobStore][] = [
  ['files', (dir, referenced) => createBlobStore(path.join(dir, 'blobs'), { referenced, tmpDir: path.join(dir, 'tmp') })],
];

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe.each(implementations)('blob store (%s)', (_name, make) => {
  let dir: string;
  /** What the "database" names: tests edit it as rows come and go. */
  let rows: Set<string>;
  let referenced: ReferencedKeys;
  let blobs: BlobStore;
  const setUp = () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-blobs-'));
    rows = new Set();
    referenced = async (keys) => new Set(keys.filter((k) => rows.has(k)));
    blobs = make(dir, (keys) => referenced(keys));
  };
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stores content under its sha256 once, from bytes or a staged file, and reads it back every way', async () => {
    setUp();
    const key = await blobs.put(Buffer.from('abc'));
    expect(key).toBe(sha('abc'));
    expect(await blobs.put(Buffer.from('abc'))).toBe(key);
    const staged = path.join(blobs.tmpDir, 'staged');
    fs.writeFileSync(staged, 'xyz');
    expect(await blobs.putFile(staged)).toEqual({ key: sha('xyz'), size: 3, created: true });
    expect(fs.existsSync(staged)).toBe(false);
    fs.writeFileSync(staged, 'xyz');
    expect((await blobs.putFile(staged)).created).toBe(false);

    expect((await blobs.get(key)).toString()).toBe('abc');
    expect(await text(await blobs.stream(key))).toBe('abc');
    expect(await blobs.size(key)).toBe(3);
    expect(fs.readFileSync(await blobs.localPath(key), 'utf8')).toBe('abc');
    expect(await blobs.has(key)).toBe(true);

    const missing = sha('never stored');
    expect(await blobs.has(missing)).toBe(false);
    expect(await blobs.size(missing)).toBeNull();
    await expect(blobs.stream(missing)).rejects.toThrow();
    await expect(blobs.localPath(missing)).rejects.toThrow();
    expect(await blobs.has('../../etc/passwd')).toBe(false);
    expect(await blobs.size('../x')).toBeNull();
    await expect(blobs.get('../x')).rejects.toThrow(/invalid blob key/);

    expect(await blobs.delete(key)).toBe(true);
    expect(await blobs.delete(key)).toBe(false);
  });

  it('removes only what no row names and no request holds', async () => {
    setUp();
    const named = await blobs.put(Buffer.from('named'));
    const held = await blobs.put(Buffer.from('held'), { hold: true });
    const loose = await blobs.put(Buffer.from('loose'));
    rows.add(named);
    expect(await blobs.deleteUnreferenced([named, held, loose])).toEqual([loose]);
    blobs.release([held]);
    expect(await blobs.deleteUnreferenced([named, held])).toEqual([held]);
    expect(await blobs.has(named)).toBe(true);
  });

  it('keeps a blob that a request held and named while the reference check was running', async () => {
    setUp();
    const key = await blobs.put(Buffer.from('shared bytes'));
    // The check answers what the database held when it ran: no row named the key yet.
    let answered!: () => void;
    const checking = new Promise<void>((resolve) => (answered = resolve));
    let asked!: () => void;
    const wasAsked = new Promise<void>((resolve) => (asked = resolve));
    referenced = async (keys) => {
      const snapshot = new Set(keys.filter((k) => rows.has(k)));
      asked();
      await checking;
      return snapshot;
    };
    const removal = blobs.deleteUnreferenced([key]);
    await wasAsked;
    // Meanwhile an upload of the same bytes holds the key, writes its row and lets go.
    await blobs.put(Buffer.from('shared bytes'), { hold: true });
    rows.add(key);
    blobs.release([key]);
    answered();
    expect(await removal).toEqual([]);
    expect(await blobs.has(key)).toBe(true);
  });

  it('sweeps unnamed blobs older than the grace period, keeping named, held and recent ones', async () => {
    setUp();
    const keys = {
      named: await blobs.put(Buffer.from('named')),
      held: await blobs.put(Buffer.from('held'), { hold: true }),
      old: await blobs.put(Buffer.from('old')),
      recent: await blobs.put(Buffer.from('recent')),
    };
    const past = new Date(Date.now() - 2 * 3600_000);
    for (const k of [keys.named, keys.held, keys.old]) fs.utimesSync(await blobs.localPath(k), past, past);
    rows.add(keys.named);
    expect(await blobs.sweep(new Set([keys.named]), { olderThanMs: 3600_000 })).toBe(1);
    expect(await blobs.has(keys.old)).toBe(false);
    for (const k of [keys.named, keys.held, keys.recent]) expect(await blobs.has(k)).toBe(true);
  });
});
