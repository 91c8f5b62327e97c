import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { S3Options } from '../src/runtime/store/index.ts';

/**
 * A real S3-compatible server for the tests: s3rver (scripts/s3-server.ts) as a child process on a
 * free port, with its files in a temp directory removed at `stop()`. Each test makes its own
 * bucket (`bucket()`), so tests sharing one server never see each other's objects.
 */
export interface S3Server {
  endpoint: string;
  /** A new, empty bucket and the gateway's S3 options for it. */
  bucket(): Promise<S3Options & { env: Record<string, string> }>;
  /** The keys stored in `bucket`. */
  keys(bucket: string): Promise<string[]>;
  /** Empties and removes `bucket`. */
  drop(bucket: string): Promise<void>;
  stop(): Promise<void>;
}

export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export async function startS3Server(): Promise<S3Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-s3-'));
  const child: ChildProcess = spawn(process.execPath, ['scripts/s3-server.ts', '--dir', dir], {
    cwd: path.resolve(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the S3 server exited (${code}) before listening`)));
    readline.createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line).endpoint));
  });
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3_CREDENTIALS });
  const keys = async (bucket: string) => {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      out.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  };
  return {
    endpoint,
    async bucket() {
      const name = `spectro-test-${randomBytes(6).toString('hex')}`;
      await client.send(new CreateBucketCommand({ Bucket: name }));
      const opts: S3Options = { bucket: name, endpoint, region: 'us-east-1', forcePathStyle: true, ...S3_CREDENTIALS };
      const env = {
        S3_BUCKET: name,
        S3_ENDPOINT: endpoint,
        S3_REGION: 'us-east-1',
        S3_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
        S3_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
      };
      return { ...opts, env };
    },
    keys,
    async drop(bucket) {
      const all = await keys(bucket);
      if (all.length) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: all.map((Key) => ({ Key })) } }));
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    },
    async stop() {
      client.destroy();
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
