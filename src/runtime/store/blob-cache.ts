import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/** A file is not evicted within this long of being handed out (its reader may still open it). */
const IN_USE_MS = 60_000;

/**
 * A bounded local copy of remote blobs (model files for onnxruntime, which needs a path; pictures
 * read again soon, e.g. by training, a retried job or a heatmap). Least recently used files go
 * first once the total passes `maxBytes`; files handed out in the last minute are spared, so the
 * bound can be passed for a while by what is in use. Blobs never change under a key, so a cached
 * copy never goes stale. The directory is this process's alone (its name carries the pid): it is
 * emptied at start.
 */
export class BlobCache {
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly entries = new Map<string, { bytes: number; usedAt: number }>();
  private readonly filling = new Map<string, Promise<string>>();
  private total = 0;

  constructor(dir: string, maxBytes: number) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
  }

  private fileOf(key: string) {
    return path.join(this.dir, key);
  }

  /** The cached file of `key`, or null. */
  hit(key: string): string | null {
    const e = this.entries.get(key);
    if (!e) return null;
    e.usedAt = Date.now();
    // Map order is the eviction order: most recently used last.
    this.entries.delete(key);
    this.entries.set(key, e);
    return this.fileOf(key);
  }

  /** The cached file of `key`, filled by `fetch` (writing to the temp path it is given) when absent. */
  async file(key: string, fetch: (tempPath: string) => Promise<number>): Promise<string> {
    const hit = this.hit(key);
    if (hit) return hit;
    let pending = this.filling.get(key);
    if (!pending) {
      pending = (async () => {
        const tmp = path.join(this.dir, `.tmp-${randomBytes(6).toString('hex')}`);
        try {
          const bytes = await fetch(tmp);
          await fsp.rename(tmp, this.fileOf(key));
          this.add(key, bytes);
          return this.fileOf(key);
        } finally {
          await fsp.rm(tmp, { force: true });
        }
      })().finally(() => this.filling.delete(key));
      this.filling.set(key, pending);
    }
    return pending;
  }

  /** Keeps a copy of bytes read anyway (best effort: a failed write only means no copy). */
  async keep(key: string, data: Uint8Array): Promise<void> {
    if (this.entries.has(key) || this.filling.has(key) || data.byteLength > this.maxBytes / 8) return;
    await this.file(key, async (tmp) => {
      await fsp.writeFile(tmp, data);
      return data.byteLength;
    }).catch(() => {});
  }

  private add(key: string, bytes: number) {
    this.entries.set(key, { bytes, usedAt: Date.now() });
    this.total += bytes;
    const now = Date.now();
    for (const [k, e] of this.entries) {
      if (this.total <= this.maxBytes) break;
      if (k === key || now - e.usedAt < IN_USE_MS) continue;
      this.entries.delete(k);
      this.total -= e.bytes;
      fs.rm(this.fileOf(k), { force: true }, () => {});
    }
  }

  /** Bytes held now (tests, metrics). */
  bytes(): number {
    return this.total;
  }
}
