import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { ObjectStore, StoredObject } from './blobs.ts';

export const BLOB_KEY = /^[0-9a-f]{64}$/;

export interface FileObjects extends ObjectStore {
  /** The file of a key. Throws on a malformed key. */
  path(key: string): string;
}

/**
 * Objects as files under `<root>/ab/cdef…`, written atomically (temp file, fsync, rename), with
 * the staging directory beside them on the same file system.
 */
export function fileObjects(root: string, tmpDir = path.join(path.dirname(root), 'tmp')): FileObjects {
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(tmpDir, { recursive: true });

  const pathOf = (key: string) => {
    if (!BLOB_KEY.test(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    return path.join(root, key.slice(0, 2), key.slice(2));
  };
  const fsyncDir = async (dir: string) => {
    const fh = await fsp.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  };
  const tempIn = (dir: string) => path.join(dir, `.tmp-${randomBytes(8).toString('hex')}`);

  /** Moves a fully written, fsynced file into place (an existing blob already has these bytes). */
  const install = async (tmp: string, key: string) => {
    const dest = pathOf(key);
    if (fs.existsSync(dest)) {
      await fsp.rm(tmp, { force: true });
      return;
    }
    await fsp.rename(tmp, dest);
    await fsyncDir(path.dirname(dest));
  };

  return {
    backend: 'files',
    tmpDir,
    path: pathOf,
    // A stat without the thread pool: asked for every picture a row is about to name, inside the
    // predict path, where a queued fs call costs more than the call itself.
    exists: (key) => Promise.resolve(BLOB_KEY.test(key) && fs.existsSync(pathOf(key))),

    async write(key, data) {
      const dir = path.dirname(pathOf(key));
      await fsp.mkdir(dir, { recursive: true });
      const tmp = tempIn(dir);
      try {
        const fh = await fsp.open(tmp, 'wx');
        try {
          await fh.writeFile(data);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await install(tmp, key);
      } catch (err) {
        await fsp.rm(tmp, { force: true });
        throw err;
      }
    },

    async writeFile(key, file) {
      const dir = path.dirname(pathOf(key));
      await fsp.mkdir(dir, { recursive: true });
      // Into the blob directory first when the file lives elsewhere, so that the final rename is
      // atomic within one directory; fsync before it, so a crash cannot leave a named but empty blob.
      const tmp = tempIn(dir);
      try {
        try {
          await fsp.rename(file, tmp);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
          await fsp.copyFile(file, tmp);
          await fsp.rm(file, { force: true });
        }
        const fh = await fsp.open(tmp, 'r+');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        await install(tmp, key);
      } finally {
        await fsp.rm(tmp, { force: true });
      }
    },

    read: async (key) => fsp.readFile(pathOf(key)),
    async stream(key): Promise<Readable> {
      // Opened before answering, so a missing blob rejects here rather than mid-response.
      const fh = await fsp.open(pathOf(key), 'r');
      return fh.createReadStream();
    },
    async size(key) {
      if (!BLOB_KEY.test(key)) return null;
      const st = await fsp.stat(pathOf(key)).catch(() => null);
      return st?.isFile() ? st.size : null;
    },
    async localPath(key) {
      const file = pathOf(key);
      await fsp.access(file);
      return file;
    },
    presign: async () => null,
    async modifiedAt(key) {
      const st = await fsp.stat(pathOf(key)).catch(() => null);
      return st?.isFile() ? st.mtimeMs : null;
    },
    async touch(key) {
      const t = new Date();
      return fsp.utimes(pathOf(key), t, t).then(
        () => true,
        () => false,
      );
    },

    async remove(keys) {
      const removed: string[] = [];
      for (const key of keys) {
        try {
          fs.unlinkSync(pathOf(key));
          removed.push(key);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      return removed;
    },

    async *list(): AsyncIterable<StoredObject> {
      const dirs = await fsp.readdir(root).catch(() => [] as string[]);
      for (const d of dirs) {
        if (!/^[0-9a-f]{2}$/.test(d)) continue;
        for (const f of await fsp.readdir(path.join(root, d)).catch(() => [] as string[])) {
          const key = d + f;
          if (!BLOB_KEY.test(key)) continue;
          const st = await fsp.stat(path.join(root, d, f)).catch(() => null);
          if (st?.isFile()) yield { key, size: st.size, modifiedAt: st.mtimeMs };
        }
      }
    },

    async removeTemp(olderThanMs) {
      const cutoff = Date.now() - olderThanMs;
      let removed = 0;
      const stale = async (file: string) => {
        const st = await fsp.stat(file).catch(() => null);
        if (st?.isFile() && st.mtimeMs <= cutoff) {
          await fsp.rm(file, { force: true });
          removed++;
        }
      };
      // Half-written blobs of a crashed write, and staged uploads or exports of a crashed request.
      for (const d of await fsp.readdir(root).catch(() => [] as string[])) {
        if (!/^[0-9a-f]{2}$/.test(d)) continue;
        for (const f of await fsp.readdir(path.join(root, d)).catch(() => [] as string[])) {
          if (f.startsWith('.tmp-')) await stale(path.join(root, d, f));
        }
      }
      for (const f of await fsp.readdir(tmpDir).catch(() => [] as string[])) await stale(path.join(tmpDir, f));
      return removed;
    },

    async claimOwner(id) {
      const marker = path.join(path.dirname(root), `${path.basename(root)}.owner`);
      const claimed = await fsp.readFile(marker, 'utf8').then(
        (s) => s.trim(),
        () => null,
      );
      if (claimed === null) {
        await fsp.writeFile(marker, `${id}\n`);
        return true;
      }
      return claimed === id;
    },
    close: async () => {},
  };
}
