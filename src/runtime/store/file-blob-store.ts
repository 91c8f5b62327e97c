import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore, PutOptions, ReferencedKeys } from './blobs.ts';

const KEY = /^[0-9a-f]{64}$/;
/** An upload's hold lapses after this, so a request that died between ingest and write leaks nothing forever. */
const HOLD_MS = 15 * 60_000;

export interface BlobStoreOptions {
  /** Which of `keys` some row still refers to (see `deleteUnreferenced` for the race it leaves). */
  referenced?: ReferencedKeys;
  /** Staging directory for uploads; default `<root>/../tmp`. Keep it on the same file system. */
  tmpDir?: string;
  now?: () => number;
}

export interface FileBlobStore extends BlobStore {
  /** The file of a key (tests; readers use `localPath`). Throws on a malformed key. */
  path(key: string): string;
  /** Holds currently in force (tests and diagnostics). */
  holdCount(key: string): number;
}

/** Content-addressed files under `<root>/ab/cdef…`, written atomically. */
export function createBlobStore(root: string, opts: BlobStoreOptions = {}): FileBlobStore {
  const now = opts.now ?? Date.now;
  const tmpDir = opts.tmpDir ?? path.join(path.dirname(root), 'tmp');
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(tmpDir, { recursive: true });
  // In-flight uploads pin their blobs (expiry times, one per hold) until the row is written
  // or the request is rolled back, so a concurrent delete cannot remove a blob about to be used.
  const holds = new Map<string, number[]>();
  // The reference check is a database query: between its answer and the unlink, a request may
  // put the same bytes, write its row and release its hold. Every hold is numbered; a removal
  // skips keys held after its check began, however briefly.
  let holdSeq = 0;
  const lastHeld = new Map<string, number>();
  let removals = 0;
  const heldSince = (key: string, seq: number) => (lastHeld.get(key) ?? 0) > seq;
  const removing = async <T>(fn: (seq: number) => Promise<T>): Promise<T> => {
    removals++;
    try {
      return await fn(holdSeq);
    } finally {
      if (--removals === 0) lastHeld.clear();
    }
  };

  const pathOf = (key: string) => {
    if (!KEY.test(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    return path.join(root, key.slice(0, 2), key.slice(2));
  };

  const activeHolds = (key: string) => {
    const list = holds.get(key);
    if (!list) return 0;
    const t = now();
    const live = list.filter((e) => e > t);
    if (live.length === 0) holds.delete(key);
    else if (live.length !== list.length) holds.set(key, live);
    return live.length;
  };

  const hold = (key: string) => {
    const list = holds.get(key) ?? [];
    list.push(now() + HOLD_MS);
    holds.set(key, list);
    if (removals > 0) lastHeld.set(key, ++holdSeq);
  };

  const fsyncDir = async (dir: string) => {
    const fh = await fsp.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  };

  const exists = (p: string) => fsp.access(p).then(
    () => true,
    () => false,
  );

  const hashFile = (file: string) =>
    new Promise<{ key: string; size: number }>((resolve, reject) => {
      const h = createHash('sha256');
      let size = 0;
      createReadStream(file)
        .on('data', (chunk) => {
          size += chunk.length;
          h.update(chunk);
        })
        .on('error', reject)
        .on('end', () => resolve({ key: h.digest('hex'), size }));
    });

  /** Moves a fully written, fsynced file into place; false when the blob already existed. */
  const install = async (tmp: string, key: string): Promise<boolean> => {
    const dest = pathOf(key);
    if (await exists(dest)) {
      await fsp.rm(tmp, { force: true });
      return false;
    }
    await fsp.rename(tmp, dest);
    await fsyncDir(path.dirname(dest));
    return true;
  };

  const writeTemp = async (dir: string, data: Uint8Array) => {
    const tmp = path.join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
    const fh = await fsp.open(tmp, 'wx');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } catch (err) {
      await fh.close();
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    return tmp;
  };

  const unlinkSync = (key: string) => {
    try {
      fs.unlinkSync(pathOf(key));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  };

  return {
    tmpDir,
    async put(data: Uint8Array, o?: PutOptions) {
      const key = createHash('sha256').update(data).digest('hex');
      const dest = pathOf(key);
      if (o?.hold) hold(key);
      if (await exists(dest)) return key;
      const dir = path.dirname(dest);
      await fsp.mkdir(dir, { recursive: true });
      const tmp = await writeTemp(dir, data);
      try {
        await install(tmp, key);
      } catch (err) {
        await fsp.rm(tmp, { force: true });
        throw err;
      }
      return key;
    },

    async putFile(tempPath: string, o?: PutOptions) {
      const { key, size } = await hashFile(tempPath);
      if (o?.hold) hold(key);
      const dest = pathOf(key);
      const dir = path.dirname(dest);
      await fsp.mkdir(dir, { recursive: true });
      if (await exists(dest)) {
        await fsp.rm(tempPath, { force: true });
        return { key, size, created: false };
      }
      // Copy into the blob directory first when the temp file lives elsewhere, so the final
      // rename is atomic within one directory; fsync before rename so a crash cannot leave a
      // named but empty blob.
      let tmp = path.join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
      try {
        await fsp.rename(tempPath, tmp);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        await fsp.copyFile(tempPath, tmp);
        await fsp.rm(tempPath, { force: true });
      }
      try {
        const fh = await fsp.open(tmp, 'r+');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        const created = await install(tmp, key);
        tmp = '';
        return { key, size, created };
      } finally {
        if (tmp) await fsp.rm(tmp, { force: true });
      }
    },

    get: async (key: string) => fsp.readFile(pathOf(key)),
    path: pathOf,
    async stream(key: string): Promise<Readable> {
      const file = pathOf(key);
      // Opened before answering, so a missing blob rejects here rather than mid-response.
      const fh = await fsp.open(file, 'r');
      return fh.createReadStream();
    },
    async size(key: string) {
      if (!KEY.test(key)) return null;
      const st = await fsp.stat(pathOf(key)).catch(() => null);
      return st?.isFile() ? st.size : null;
    },
    async localPath(key: string) {
      const file = pathOf(key);
      await fsp.access(file);
      return file;
    },
    // A stat without the thread pool: the store asks this for every picture it is about to
    // name, inside the predict path, where a queued fs call costs more than the call itself.
    has: (key: string) => Promise.resolve(KEY.test(key) && fs.existsSync(pathOf(key))),

    async delete(key: string) {
      return unlinkSync(key);
    },

    release(keys: Iterable<string>) {
      for (const key of keys) {
        const list = holds.get(key);
        if (!list) continue;
        list.shift();
        if (list.length === 0) holds.delete(key);
      }
    },

    /**
     * Within this process the check is exact: a hold taken while the reference query runs saves
     * the key. Across processes that share the files, a row written by another instance between
     * the query and the unlink is not seen (the job queue's sweep replaces this there).
     */
    async deleteUnreferenced(keys: Iterable<string>) {
      const candidates = [...new Set(keys)].filter((k) => KEY.test(k) && activeHolds(k) === 0);
      if (candidates.length === 0) return [];
      return removing(async (seq) => {
        const refs = opts.referenced ? await opts.referenced(candidates) : new Set<string>();
        const removed: string[] = [];
        for (const key of candidates) {
          if (refs.has(key) || activeHolds(key) > 0 || heldSince(key, seq)) continue;
          if (unlinkSync(key)) removed.push(key);
        }
        return removed;
      });
    },

    async sweep(referenced: Set<string>, o?: { olderThanMs?: number }) {
      const cutoff = now() - (o?.olderThanMs ?? 0);
      let removed = 0;
      let dirs: string[];
      try {
        dirs = await fsp.readdir(root);
      } catch {
        return 0;
      }
      for (const d of dirs) {
        if (!/^[0-9a-f]{2}$/.test(d)) continue;
        const dir = path.join(root, d);
        for (const f of await fsp.readdir(dir)) {
          const file = path.join(dir, f);
          const key = d + f;
          const isTemp = f.startsWith('.tmp-');
          if (!isTemp && (referenced.has(key) || activeHolds(key) > 0)) continue;
          const st = await fsp.stat(file).catch(() => null);
          if (!st || st.mtimeMs > cutoff) continue;
          // Check again right before unlinking (a row may have arrived meanwhile).
          const gone = await removing(async (seq) => {
            if (!isTemp && ((await opts.referenced?.([key]))?.has(key) || activeHolds(key) > 0 || heldSince(key, seq))) return false;
            try {
              fs.unlinkSync(file);
              return true;
            } catch {
              return false; // gone already
            }
          });
          if (gone) removed++;
        }
      }
      return removed;
    },

    holdCount: (key: string) => activeHolds(key),
  };
}
