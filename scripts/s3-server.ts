/**
 * A local S3-compatible server (s3rver, files under a directory) for tests, benchmarks and
 * development without MinIO: `node scripts/s3-server.ts [--port 0] [--dir <dir>] [--bucket <name>…]`.
 * Prints one JSON line `{"endpoint": …}` once it listens; SIGTERM stops it. Credentials: S3RVER /
 * S3RVER, path-style addressing (S3_FORCE_PATH_STYLE=true).
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const S3rver = require('@20minutes/s3rver') as new (
  opts: Record<string, unknown>,
) => {
  middleware: ((ctx: { path: string; state: Record<string, unknown>; mountPath?: string }, next: () => Promise<void>) => Promise<void>)[];
  run(): Promise<{ port: number; address: string }>;
  close(): Promise<void>;
};

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, dir: { type: 'string' }, bucket: { type: 'string', multiple: true, default: [] } },
});
const dir = values.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 's3rver-'));
const server = new S3rver({
  port: Number(values.port),
  address: '127.0.0.1',
  directory: dir,
  silent: true,
  configureBuckets: values.bucket.map((name) => ({ name })),
});
// s3rver signs bucket-level requests (`/<bucket>/`: list, create) without the trailing slash the
// AWS SDK v3 signs them with, and refuses them. Its virtual-host branch builds the path the SDK's
// way: take it for those requests. Object requests are checked as they come.
server.middleware.splice(server.middleware.length - 1, 0, (ctx, next) => {
  if (/^\/[^/]+\/$/.test(ctx.path)) {
    ctx.state.vhost = true;
    ctx.mountPath = '/';
  }
  return next();
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${port}`, dir })}\n`);
const stop = () => void server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
