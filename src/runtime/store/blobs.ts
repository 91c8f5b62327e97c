import type { Readable } from 'node:stream';

export interface PutOptions {
  /**
   * Pins the blob for an in-flight request until the row that uses it is written (the store
   * releases holds when it commits rows naming the blob) or the request rolls back (`release`).
   * A held blob is never removed, by this instance or any other that shares the database; holds
   * lapse after 15 minutes.
   */
  hold?: boolean;
}

/**
 * Content-addressed binary storage: pictures, model files, exports. Keys are the sha256 hex of
 * the content, so writing the same content twice is a no-op and a key's bytes never change.
 * Bytes live in an `ObjectStore` (files under DATA_DIR, or an S3-compatible bucket); which blobs
 * may be removed is decided through the database (`BlobGuard`), so that instances sharing both
 * never delete what another one is about to name (guarded-blobs.ts).
 */
export interface BlobStore {
  /** Where the bytes are: `files` (DATA_DIR) or `s3`. */
  readonly backend: 'files' | 's3';
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
   * A local file with the blob's bytes, for readers that need a path (onnxruntime). Object
   * storage answers a file of its bounded local cache. Rejects when the blob is absent.
   */
  localPath(key: string): Promise<string>;
  has(key: string): Promise<boolean>;
  /**
   * A URL that fetches the blob straight from object storage until `ttlSeconds` pass, answered
   * with `contentType` (and as a download named `filename`); null where the bytes are local.
   */
  presign(key: string, opts: { ttlSeconds: number; contentType: string; filename?: string | null }): Promise<string | null>;
  /** Removes the blob unconditionally; false when it did not exist. */
  delete(key: string): Promise<boolean>;
  /** Drops one hold per key (see PutOptions.hold). */
  release(keys: Iterable<string>): void;
  /** Removes those of `keys` that no record names and no in-flight request holds; returns them. */
  deleteUnreferenced(keys: Iterable<string>): Promise<string[]>;
  /**
   * Removes blobs no record names any more (and stray staged files). `olderThanMs` spares those
   * written recently. Returns how many went.
   */
  sweep(opts?: { olderThanMs?: number }): Promise<number>;
  /** Removes this instance's staged files (and half-written blobs) older than `olderThanMs`; returns how many. */
  cleanStaging(olderThanMs: number): Promise<number>;
  /** Stops background work (caches, timers). */
  close(): Promise<void>;
}

/** A stored object as a listing shows it. */
export interface StoredObject {
  key: string;
  size: number;
  /** Epoch ms of the last write. */
  modifiedAt: number;
}

/**
 * Where the bytes live, keyed by sha256 hex; knows nothing of rows or holds (guarded-blobs.ts
 * adds them). Implementations: files under DATA_DIR (objects-files.ts), an S3-compatible bucket
 * (objects-s3.ts).
 */
export interface ObjectStore {
  readonly backend: 'files' | 's3';
  readonly tmpDir: string;
  exists(key: string): Promise<boolean>;
  /** Writes bytes under `key` (the caller computed it). */
  write(key: string, data: Uint8Array): Promise<void>;
  /** Moves (files) or streams (S3) a local file to `key`; the file is gone afterwards. */
  writeFile(key: string, file: string, size: number): Promise<void>;
  read(key: string): Promise<Buffer>;
  stream(key: string): Promise<Readable>;
  size(key: string): Promise<number | null>;
  localPath(key: string): Promise<string>;
  presign(key: string, opts: { ttlSeconds: number; contentType: string; filename?: string | null }): Promise<string | null>;
  /** Epoch ms of the object's last write or touch; null when absent. */
  modifiedAt(key: string): Promise<number | null>;
  /** Makes an existing object young again (a write of the same bytes); false when it is absent. */
  touch(key: string): Promise<boolean>;
  /** Removes the objects; answers those that existed (as far as the backend tells). */
  remove(keys: readonly string[]): Promise<string[]>;
  /** Every stored object (with its age), and half-written leftovers as `temp` entries. */
  list(): AsyncIterable<StoredObject>;
  /** Removes half-written leftovers older than `olderThanMs`; returns how many. */
  removeTemp(olderThanMs: number): Promise<number>;
  /**
   * Claims the objects for database `id` (a marker beside them). False when they belong to
   * another database: then nothing may be swept (DATABASE_URL or the bucket was changed).
   */
  claimOwner(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The database's side of blob safety (store/domains/blob-claims.ts): holds of in-flight requests
 * and deletions in progress, shared by every instance on the database.
 */
export interface BlobGuard {
  /**
   * Holds `key` (count +1) for `holdMs` at most; waits while a deletion of the key is in
   * progress, so that the caller then writes the bytes again.
   */
  hold(key: string, holdMs: number): Promise<void>;
  /** Drops one hold per key. */
  release(keys: readonly string[]): Promise<void>;
  /**
   * Marks for deletion those of `keys` that no record names and nobody holds (one transaction:
   * the reference check sees every row committed before the mark). Answers the marked keys and
   * the token that `settle` needs once they are removed.
   */
  condemn(keys: readonly string[]): Promise<{ keys: string[]; token: string; at: number }>;
  /** Ends the deletion `token` (after the objects went, or when giving up). */
  settle(keys: readonly string[], token: string): Promise<void>;
  /** How long a deletion may run before others take its keys back (ms). */
  readonly leaseMs: number;
  /** Drops rows whose holds lapsed (requests that died). */
  tidy(): Promise<number>;
}
