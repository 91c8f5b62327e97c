import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fsp from 'node:fs/promises';
import type { BlobGuard, BlobStore, ObjectStore } from './blobs.ts';
import { BLOB_KEY } from './objects-files.ts';

/** An upload's hold lapses after this, so a request that died between ingest and write pins nothing forever. */
export const HOLD_MS = 15 * 60_000;

export interface GuardedBlobs extends BlobStore {
  /** The database's side (holds and deletions), for tools and tests that drive a deletion by hand. */
  readonly guard: BlobGuard;
  /** Holds this process took and has not released, per key (tests and diagnostics). */
  holdCount(key: string): number;
}

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

/**
 * The blob store every engine uses: bytes in an `ObjectStore`, removals decided through the
 * database's `BlobGuard` (holds of in-flight requests, deletions marked before they run), so that
 * any number of instances can share the objects and the database (domains/blob-claims.ts).
 * A write without a hold (a download that no row names) holds the key only while it writes or
 * touches the bytes; their fresh age then spares them from sweeps for the grace period.
 */
export function guardedBlobs(objects: ObjectStore, guard: BlobGuard, opts: { now?: () => number } = {}): GuardedBlobs {
  const now = opts.now ?? Date.now;
  const held = new Map<string, number>();
  // Releases run in the background (callers do not wait on them); removals wait for those
  // already under way, so that a hold released here is seen as released there.
  const releasing = new Set<Promise<void>>();

  const take = (key: string) => held.set(key, (held.get(key) ?? 0) + 1);
  const drop = (key: string) => {
    const n = (held.get(key) ?? 0) - 1;
    if (n > 0) held.set(key, n);
    else held.delete(key);
  };
  const release = (keys: Iterable<string>) => {
    const mine = [...keys].filter((k) => held.has(k));
    if (mine.length === 0) return;
    mine.forEach(drop);
    const p = guard.release(mine).catch(() => {
      // Not released: the holds lapse on their own (HOLD_MS).
    });
    releasing.add(p);
    void p.finally(() => releasing.delete(p));
  };

  /** Holds `key` while `write` runs; keeps the hold when `keep` (the caller releases it). */
  const guarded = async <T>(key: string, keep: boolean, write: () => Promise<T>): Promise<T> => {
    take(key);
    try {
      await guard.hold(key, HOLD_MS);
    } catch (err) {
      drop(key);
      throw err;
    }
    let ok = false;
    try {
      const out = await write();
      ok = true;
      return out;
    } finally {
      if (!ok || !keep) {
        drop(key);
        await guard.release([key]).catch(() => {
          // Not released: the hold lapses on its own (HOLD_MS).
        });
      }
    }
  };

  /**
   * Removes those of `keys` nobody names or holds. With `olderThan`, only objects not written or
   * touched since then: their age is read again under the mark, when no write can come between.
   */
  const remove = async (keys: readonly string[], olderThan?: number): Promise<string[]> => {
    await Promise.all(releasing);
    const candidates = keys.filter((k) => BLOB_KEY.test(k) && !held.has(k));
    if (candidates.length === 0) return [];
    const { keys: marked, token, at } = await guard.condemn(candidates);
    try {
      let doomed = marked;
      if (olderThan !== undefined && doomed.length > 0) {
        const ages = await Promise.all(doomed.map((k) => objects.modifiedAt(k)));
        doomed = doomed.filter((_, i) => ages[i] !== null && ages[i]! <= olderThan);
      }
      // A deletion that took half its lease to get here may already be taken for dead.
      if (doomed.length === 0 || now() - at > guard.leaseMs / 2) return [];
      return await objects.remove(doomed);
    } finally {
      await guard.settle(marked, token);
    }
  };

  return {
    backend: objects.backend,
    tmpDir: objects.tmpDir,
    guard,

    async put(data, o) {
      const key = createHash('sha256').update(data).digest('hex');
      return guarded(key, !!o?.hold, async () => {
        if (o?.hold ? !(await objects.exists(key)) : !(await objects.touch(key))) await objects.write(key, data);
        return key;
      });
    },

    async putFile(tempPath, o) {
      const { key, size } = await hashFile(tempPath);
      try {
        return await guarded(key, !!o?.hold, async () => {
          if (o?.hold ? await objects.exists(key) : await objects.touch(key)) {
            await fsp.rm(tempPath, { force: true });
            return { key, size, created: false };
          }
          await objects.writeFile(key, tempPath, size);
          return { key, size, created: true };
        });
      } finally {
        await fsp.rm(tempPath, { force: true });
      }
    },

    get: (key) => objects.read(key),
    stream: (key) => objects.stream(key),
    size: (key) => objects.size(key),
    localPath: (key) => objects.localPath(key),
    // A key this process holds is there (a removal waits for the hold); others are asked of the backend.
    async has(key) {
      if (!BLOB_KEY.test(key)) return false;
      if (held.has(key)) return true;
      return objects.exists(key);
    },
    presign: (key, o) => objects.presign(key, o),
    async delete(key) {
      return (await objects.remove([key])).length > 0;
    },
    release,
    deleteUnreferenced: (keys) => remove([...new Set(keys)]),

    async sweep(o) {
      const olderThanMs = o?.olderThanMs ?? 0;
      const cutoff = now() - olderThanMs;
      let removed = await objects.removeTemp(olderThanMs);
      let batch: string[] = [];
      for await (const obj of objects.list()) {
        if (obj.modifiedAt > cutoff) continue;
        batch.push(obj.key);
        if (batch.length >= 500) {
          removed += (await remove(batch, cutoff)).length;
          batch = [];
        }
      }
      removed += (await remove(batch, cutoff)).length;
      await guard.tidy();
      return removed;
    },

    cleanStaging: (olderThanMs) => objects.removeTemp(olderThanMs),
    close: () => objects.close(),
    holdCount: (key) => held.get(key) ?? 0,
  };
}
