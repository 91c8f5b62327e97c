import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Kysely, sql, type Dialect, type LogEvent, type RootOperationNode } from 'kysely';
import type { BlobStore, ObjectStore } from './blobs.ts';
import { migrateToLatest } from './db/migrate.ts';
import { isPostgresUrl, postgresDialect } from './db/postgres.ts';
import type { Database } from './db/schema.ts';
import type { Engine } from './db/sql.ts';
import { sqliteDialect, type SqliteSynchronous } from './db/sqlite.ts';
import { accessQueries } from './domains/access.ts';
import { algorithmQueries } from './domains/algorithms.ts';
import { assessmentQueries } from './domains/assessments.ts';
import type { StoreContext } from './domains/context.ts';
import { itemQueries } from './domains/items.ts';
import { modelQueries } from './domains/models.ts';
import { targetQueries } from './domains/targets.ts';
import { blobClaims } from './domains/blob-claims.ts';
import { predictionJobQueries } from './domains/prediction-jobs.ts';
import { guardedBlobs, type GuardedBlobs } from './guarded-blobs.ts';
import { fileObjects, type FileObjects } from './objects-files.ts';
import { s3Objects, type S3Options } from './objects-s3.ts';
import { userQueries } from './domains/users.ts';
import { webhookQueries } from './domains/webhooks.ts';
import { regionQueries } from './domains/regions.ts';
import type { Store } from './store.ts';

export type { Store } from './store.ts';
export type { Engine } from './db/sql.ts';
export type { S3Options } from './objects-s3.ts';
export { isPostgresUrl } from './db/postgres.ts';

/** Identifies a database, so that its blob files are recognised (see ownsBlobDir). */
const STORE_ID_SETTING = 'store.id';
/** Unreferenced blobs younger than this survive sweeps (downloads without a row). */
export const SWEEP_MIN_AGE_MS = 60 * 60_000;

interface StoreLogger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
}

export interface StoreOptions {
  /** Local files: the SQLite database (when no databaseUrl), blobs and staging by default. */
  dataDir: string;
  /** `postgres://…` selects PostgreSQL; null/unset: the embedded SQLite file `<dataDir>/spectro.db`. */
  databaseUrl?: string | null;
  /** An S3-compatible bucket for the blobs; null/unset: files under `<dataDir>/blobs`. */
  s3?: S3Options | null;
  /** Bound of the local copy of remote blobs (S3), in bytes (BLOB_CACHE_BYTES). */
  blobCacheBytes?: number;
  /** The embedded SQLite file's commits: fsynced each (`full`, default) or at checkpoints (`normal`); see sqlite.ts. */
  sqliteSynchronous?: SqliteSynchronous;
  /** Sweep unreferenced blobs once at start (default true; API instances leave it to the workers). */
  sweepAtStart?: boolean;
  log?: StoreLogger;
  now?: () => number;
}

/** The blob store of every store: guarded objects (files expose their paths, for tests and tools). */
export type StoreBlobs = GuardedBlobs & { path?: (key: string) => string };
/** A store with its blobs. */
export type StoreOf<B extends BlobStore> = Store & { readonly blobs: B };
/** The store with its blobs in files under DATA_DIR (the default). */
export type LocalStore = StoreOf<GuardedBlobs & { path(key: string): string }>;

/**
 * What a statement counts as in `stats`: reads change nothing (a raw statement is one when it is a
 * SELECT that takes no sequence value); transaction control counts as neither.
 */
function kindOf(node: RootOperationNode, text: string): 'read' | 'write' | null {
  if (node.kind === 'SelectQueryNode') return 'read';
  if (node.kind !== 'RawNode') return 'write';
  if (/^\s*(begin|commit|rollback|savepoint|release)\b/i.test(text)) return null;
  return /^\s*(select|with)\b/i.test(text) && !/\bnextval\(/i.test(text) ? 'read' : 'write';
}

/**
 * True when DATA_DIR's blob files belong to this database: both carry the same store id
 * (`<dataDir>/blobs.owner`, made by the first start; a directory without one is claimed).
 * False, with a warning, when they belong to another database.
 */
async function ownsBlobs(ctx: StoreContext, objects: ObjectStore, where: string, log?: StoreLogger): Promise<boolean> {
  const id = await accessQueries(ctx).initSetting(STORE_ID_SETTING, randomUUID());
  if (await objects.claimOwner(id)) return true;
  log?.warn({ blobs: where, database: id }, 'store: the blobs belong to another database; not sweeping them (check DATA_DIR, S3_BUCKET and DATABASE_URL)');
  return false;
}

/** Where the records live, for the start-up log line (never the password). */
function describe(databaseUrl: string | null | undefined, dataDir: string) {
  if (!databaseUrl) return { engine: 'sqlite' as const, file: path.join(dataDir, 'spectro.db') };
  const u = new URL(databaseUrl);
  return { engine: 'postgres' as const, host: u.host, database: u.pathname.slice(1) || null };
}

/**
 * The store: records on SQLite or PostgreSQL (one set of queries and migrations, Kysely for
 * both), blobs in a BlobStore. Migrates at start, then removes blob files nothing refers to.
 */
export async function createStore(opts: StoreOptions & { s3?: null }): Promise<LocalStore>;
export async function createStore(opts: StoreOptions): Promise<StoreOf<StoreBlobs>>;
export async function createStore(opts: StoreOptions): Promise<StoreOf<StoreBlobs>> {
  const now = opts.now ?? Date.now;
  const where = describe(opts.databaseUrl, opts.dataDir);
  if (opts.databaseUrl && !isPostgresUrl(opts.databaseUrl)) {
    throw new Error(`DATABASE_URL must be a postgres:// or postgresql:// URL (unset: the embedded SQLite database)`);
  }
  const engine: Engine = where.engine;
  let dialect: Dialect;
  if (opts.databaseUrl) {
    dialect = postgresDialect({
      url: opts.databaseUrl,
      onError: (err) => opts.log?.warn({ err }, 'store: an idle database connection failed'),
    }).dialect;
  } else {
    dialect = sqliteDialect(opts.dataDir, opts.sqliteSynchronous);
  }

  const stats = { reads: 0, writes: 0 };
  const db = new Kysely<Database>({
    dialect,
    log(event: LogEvent) {
      const kind = kindOf(event.query.query, event.query.sql);
      if (kind === 'read') stats.reads++;
      else if (kind === 'write') stats.writes++;
    },
  });

  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy().catch(() => {});
    const at = where.engine === 'postgres' ? `PostgreSQL at ${where.host}/${where.database ?? ''}` : where.file;
    throw new Error(`cannot open the database (${at}): ${(err as Error).message}`, { cause: err });
  }
  let applied: string[];
  try {
    applied = await migrateToLatest(db, engine);
  } catch (err) {
    await db.destroy().catch(() => {});
    throw err;
  }
  opts.log?.info({ ...where, ...(applied.length ? { migrated: applied } : {}) }, 'store: database ready');

  const tmpDir = path.join(opts.dataDir, 'tmp');
  const objects: ObjectStore & { path?: (key: string) => string } = opts.s3
    ? s3Objects({
        ...opts.s3,
        tmpDir,
        // Per process: two instances on one DATA_DIR each keep their own copy.
        cacheDir: path.join(opts.dataDir, 'cache', `blobs-${process.pid}`),
        cacheBytes: opts.blobCacheBytes ?? 1024 ** 3,
      })
    : (fileObjects(path.join(opts.dataDir, 'blobs'), tmpDir) as FileObjects);
  const guarded = guardedBlobs(objects, blobClaims(db, engine, now), { now });
  const blobs: StoreBlobs = objects.path ? Object.assign(guarded, { path: objects.path }) : guarded;
  const blobsAt = opts.s3 ? `s3://${opts.s3.bucket}` : path.join(opts.dataDir, 'blobs');

  const ctx: StoreContext = {
    db,
    engine,
    blobs,
    iso: () => new Date(now()).toISOString(),
    tx: (fn) => db.transaction().execute(fn),
  };

  // Sweeps only the blobs this database owns (see ownsBlobs); asked once, at the first sweep.
  let owned: Promise<boolean> | null = null;
  const sweepBlobs = async (olderThanMs = SWEEP_MIN_AGE_MS) => {
    owned ??= ownsBlobs(ctx, objects, blobsAt, opts.log);
    if (!(await owned)) return objects.removeTemp(olderThanMs);
    return blobs.sweep({ olderThanMs });
  };

  let closed = false;
  const store: StoreOf<StoreBlobs> = {
    engine,
    blobs,
    stats,
    ...targetQueries(ctx),
    ...algorithmQueries(ctx),
    ...modelQueries(ctx),
    ...itemQueries(ctx),
    ...assessmentQueries(ctx),
    ...accessQueries(ctx),
    ...predictionJobQueries(ctx),
    ...webhookQueries(ctx),
    ...userQueries(ctx),
    ...regionQueries(ctx),
    sweepBlobs,
    async ping() {
      try {
        const { rows } = await sql<{ ok: number }>`select 1 as ok`.execute(db);
        return Number(rows[0]?.ok) === 1;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await blobs.close();
      await db.destroy();
    },
  };

  // The start-up sweep removes the blobs this database does not name, so it must be the database
  // the blobs belong to: DATA_DIR's files or the bucket pointed at another (DATABASE_URL changed,
  // a fresh PostgreSQL database next to an SQLite one's files) would otherwise lose them all.
  if (opts.sweepAtStart !== false) {
    const swept = await sweepBlobs();
    if (swept) opts.log?.info({ swept }, 'store: removed unreferenced blobs');
  }
  // Migrating and sweeping are not the caller's queries.
  stats.reads = 0;
  stats.writes = 0;
  return store;
}
