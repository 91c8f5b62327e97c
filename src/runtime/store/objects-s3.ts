import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { BlobCache } from './blob-cache.ts';
import type { ObjectStore, StoredObject } from './blobs.ts';
import { BLOB_KEY } from './objects-files.ts';

/** S3_* configuration (README "Configuration"). */
export interface S3Options {
  bucket: string;
  /** Unset: AWS's endpoint for the region. */
  endpoint: string | null;
  region: string;
  accessKeyId: string | null;
  secretAccessKey: string | null;
  /** `<endpoint>/<bucket>/<key>` instead of `<bucket>.<endpoint>/<key>` (MinIO, Ceph, most self-hosted servers). */
  forcePathStyle: boolean;
}

/** Parts of a multipart upload: big files go up in pieces of this size, two at a time. */
const PART_BYTES = 8 * 1024 * 1024;
/** Objects at most this big are kept in the local cache when read whole (pictures). */
const CACHE_READS_UP_TO = 16 * 1024 * 1024;
/** The marker object that names the database the bucket's blobs belong to (not a blob key). */
const OWNER_KEY = 'blobs.owner';

const notFound = (err: unknown) =>
  err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey' || err.name === 'NotFound');

/** `attachment; filename="…"`, with the RFC 5987 form added only for names beyond plain ASCII. */
function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return ascii === filename ? `attachment; filename="${ascii}"` : `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

function checkKey(key: string) {
  if (!BLOB_KEY.test(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
}

/**
 * Blobs as objects of an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, Garage…) through the AWS
 * SDK v3, under their sha256 key. Files go up as streams (multipart above one part), reads come
 * as streams; `localPath` (model files for onnxruntime) and repeated whole reads (pictures) are
 * served from a bounded local cache under `cacheDir`. Checksums are sent only where an operation
 * requires them, which every S3-compatible server accepts.
 */
export function s3Objects(opts: S3Options & { tmpDir: string; cacheDir: string; cacheBytes: number }): ObjectStore {
  const client = new S3Client({
    region: opts.region,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    forcePathStyle: opts.forcePathStyle,
    ...(opts.accessKeyId && opts.secretAccessKey ? { credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = opts.bucket;
  fs.mkdirSync(opts.tmpDir, { recursive: true });
  const cache = new BlobCache(opts.cacheDir, opts.cacheBytes);

  const size = async (key: string) => {
    try {
      return (await client.send(new HeadObjectCommand({ Bucket, Key: key }))).ContentLength ?? 0;
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  };
  const body = async (key: string): Promise<Readable> => {
    checkKey(key);
    const res = await client.send(new GetObjectCommand({ Bucket, Key: key }));
    return res.Body as Readable;
  };

  return {
    backend: 's3',
    tmpDir: opts.tmpDir,
    async exists(key) {
      // Asked of the bucket, not the cache: another instance may have removed it.
      if (!BLOB_KEY.test(key)) return false;
      return (await size(key)) !== null;
    },
    async write(key, data) {
      checkKey(key);
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: data, ContentLength: data.byteLength }));
    },
    async writeFile(key, file, bytes) {
      checkKey(key);
      try {
        if (bytes <= PART_BYTES) {
          await client.send(new PutObjectCommand({ Bucket, Key: key, Body: fs.createReadStream(file), ContentLength: bytes }));
        } else {
          await new Upload({ client, params: { Bucket, Key: key, Body: fs.createReadStream(file) }, partSize: PART_BYTES, queueSize: 2 }).done();
        }
      } finally {
        await fsp.rm(file, { force: true });
      }
    },
    async read(key) {
      const cached = cache.hit(key);
      if (cached) {
        const data = await fsp.readFile(cached).catch(() => null);
        if (data) return data;
      }
      const chunks: Buffer[] = [];
      for await (const c of await body(key)) chunks.push(c as Buffer);
      const data = Buffer.concat(chunks);
      if (data.byteLength <= CACHE_READS_UP_TO) void cache.keep(key, data);
      return data;
    },
    async stream(key) {
      const cached = cache.hit(key);
      if (cached) {
        const fh = await fsp.open(cached, 'r').catch(() => null);
        if (fh) return fh.createReadStream();
      }
      return body(key);
    },
    size: (key) => (BLOB_KEY.test(key) ? size(key) : Promise.resolve(null)),
    localPath(key) {
      checkKey(key);
      return cache.file(key, async (tmp) => {
        const src = await body(key);
        let bytes = 0;
        src.on('data', (c: Buffer) => (bytes += c.length));
        await pipeline(src, fs.createWriteStream(tmp));
        return bytes;
      });
    },
    async presign(key, o) {
      checkKey(key);
      const disposition = o.filename ? attachment(o.filename) : 'inline';
      return getSignedUrl(client, new GetObjectCommand({ Bucket, Key: key, ResponseContentType: o.contentType, ResponseContentDisposition: disposition }), {
        expiresIn: o.ttlSeconds,
      });
    },
    async modifiedAt(key) {
      checkKey(key);
      try {
        return (await client.send(new HeadObjectCommand({ Bucket, Key: key }))).LastModified?.getTime() ?? 0;
      } catch (err) {
        if (notFound(err)) return null;
        throw err;
      }
    },
    async touch(key) {
      checkKey(key);
      // A copy onto itself is a new write as far as LastModified (and lifecycle rules) go.
      try {
        await client.send(new CopyObjectCommand({ Bucket, Key: key, CopySource: `${Bucket}/${key}`, MetadataDirective: 'REPLACE' }));
        return true;
      } catch (err) {
        if (notFound(err)) return false;
        throw err;
      }
    },
    async remove(keys) {
      const removed: string[] = [];
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        batch.forEach(checkKey);
        const res = await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: false } }));
        if (res.Errors?.length) throw new Error(`object storage refused to delete ${res.Errors.map((e) => `${e.Key}: ${e.Code}`).join(', ')}`);
        removed.push(...(res.Deleted ?? []).map((d) => d.Key!).filter(Boolean));
      }
      return removed;
    },
    async *list(): AsyncIterable<StoredObject> {
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          if (o.Key && BLOB_KEY.test(o.Key)) yield { key: o.Key, size: o.Size ?? 0, modifiedAt: o.LastModified?.getTime() ?? 0 };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    async removeTemp(olderThanMs) {
      // Multipart uploads of a crashed process are the server's to expire (a lifecycle rule);
      // the staging files are local.
      const cutoff = Date.now() - olderThanMs;
      let removed = 0;
      for (const f of await fsp.readdir(opts.tmpDir).catch(() => [] as string[])) {
        const file = path.join(opts.tmpDir, f);
        const st = await fsp.stat(file).catch(() => null);
        if (st?.isFile() && st.mtimeMs <= cutoff) {
          await fsp.rm(file, { force: true });
          removed++;
        }
      }
      return removed;
    },
    async claimOwner(id) {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket, Key: OWNER_KEY }));
        return (await res.Body!.transformToString()).trim() === id;
      } catch (err) {
        if (!notFound(err)) throw err;
      }
      await client.send(new PutObjectCommand({ Bucket, Key: OWNER_KEY, Body: `${id}\n`, ContentType: 'text/plain' }));
      return true;
    },
    async close() {
      client.destroy();
    },
  };
}
