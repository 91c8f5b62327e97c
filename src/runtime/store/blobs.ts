import type { Readable } from 'node:stream';

export interface PutOptions {
  /**
   * Pins the blob for an in-flight request until the row that uses it is written (the store
   * releases holds when it commits rows naming the blob) or the request rolls back (`release`).
   * A held blob is never removed by `deleteUnreferenced`; holds lapse after 15 minutes.
   */
  hold?: boolean;
}

/** Which of `keys` some record still names (the store answers it from the database). */
export type ReferencedKeys = (keys: readonly string[]) => Promise<Set<string>>;

/**
 * Content-addressed binary storage: pictures, model files, exports. Keys are the sha256 hex of
 * the content, so writing the same content twice is a no-op and a key's bytes never change.
 * The embedded implementation is files under DATA_DIR (file-blob-store.ts); an object-storage
 * one fills the same contract (`localPath` then answers a bounded local cache).
 */
export interface BlobStore {
  /** A local directory for staging files before `putFile` (uploads, exports being zipped). */
  readonly tmpDir: string;
  /** Stores bytes and returns their key. */
  put(data: Uint8Array, opts?: PutOptions): Promise<string>;
  /**
   * Moves a fully written local file into the store (streamed uploads, exports); the file is
   * gone afterwards. `created` is false when the content was already stored.
   */
  putFile(tempPath: string, opts?: PutOptions): Promise<{ key: string; size: number; created: boolean }>;
  get(key: string): Promise<Buffer>;
  /** Reads the bytes as a stream (serving a file, zipping an export). Rejects when absent. */
  stream(key: string): Promise<Readable>;
  /** Bytes stored under the key; null when it is absent or malformed. */
  size(key: string): Promise<number | null>;
  /**
   * A local file with the blob's bytes, for readers that need a path (onnxruntime, sharp in a
   * worker thread). Rejects when the blob is absent.
   */
  localPath(key: string): Promise<string>;
  has(key: string): Promise<boolean>;
  /** Removes the blob unconditionally; false when it did not exist. */
  delete(key: string): Promise<boolean>;
  /** Drops one hold per key (see PutOptions.hold). */
  release(keys: Iterable<string>): void;
  /** Removes those of `keys` that no record names and no in-flight request holds; returns them. */
  deleteUnreferenced(keys: Iterable<string>): Promise<string[]>;
  /**
   * Removes blobs no record names any more (and stray staged files). `olderThanMs` spares those
   * written recently (e.g. export downloads, which no record names). Returns how many went.
   */
  sweep(referenced: Set<string>, opts?: { olderThanMs?: number }): Promise<number>;
}
