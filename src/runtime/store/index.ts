import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Kysely, sql, type Dialect, type LogEvent, type RootOperationNode } from 'kysely';
import type { BlobStore, ReferencedKeys } from './blobs.ts';
import { migrateToLatest } from './db/migrate.ts';
import { isPostgresUrl, postgresDialect } from './db/postgres.ts';
import type { Database } from './db/schema.ts';
import { inList, type Engine } from './db/sql.ts';
import { sqliteDialect } from './db/sqlite.ts';
import { accessQueries } from './domains/access.ts';
import { algorithmQueries } from './domains/algorithms.ts';
import { assessmentQueries } from './domains/assessments.ts';
import type { StoreContext } from './domains/context.ts';
import { itemQueries } from './domains/items.ts';
import { modelQueries } from './domains/models.ts';
import { targetQueries } from './domains/targets.ts';
import { webhookQueries } from './domains/webhooks.ts';
import { createBlobStore, type FileBlobStore } from './file-blob-store.ts';
import type { Store } from './store.ts';

export type { Store } from './store.ts';
export type { Engine } from './db/sql.ts';
export { isPostgresUrl } from './db/postgres.ts';

/** Identifies a database, so that its blob files are recognised (see ownsBlobDir). */
const STORE_ID_SETTING = 'store.id';
/** Unreferenced blobs younger than this survive the start-up sweep (downloads without a row). */
const SWEEP_MIN_AGE_MS = 60 * 60_000;

interface StoreLogger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
}

export interface StoreOptions<B extends BlobStore> {
  /** Local files: the SQLite database (when no databaseUrl), blobs and staging by default. */
  dataDir: string;
  /** `postgres://…` selects PostgreSQL; null/unset: the embedded SQLite file `<dataDir>/spectro.db`. */
  databaseUrl?: string | null;
  log?: StoreLogger;
  now?: () => number;
  /**
   * The blob store, given the reference check it must make before removing anything. Default:
   * content-addressed files under `<dataDir>/blobs`.
   */
  blobs?: (referenced: ReferencedKeys) => B;
}

/** A store whose blobs are of type B (the default file store, unless a factory says otherwise). */
export type StoreOf<B extends BlobStore> = Store & { readonly blobs: B };
/** The store with its blobs in files under DATA_DIR (the default). */
export type LocalStore = StoreOf<FileBlobStore>;

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
async function ownsBlobDir(ctx: StoreContext, dataDir: string, log?: StoreLogger): Promise<boolean> {
  const id = await accessQueries(ctx).initSetting(STORE_ID_SETTING, randomUUID());
  const marker = path.join(dataDir, 'blobs.owner');
  const claimed = await fs.promises.readFile(marker, 'utf8').then((s) => s.trim(), () => null);
  if (claimed === null) {
    await fs.promises.writeFile(marker, `${id}\n`);
    return true;
  }
  if (claimed === id) return true;
  log?.warn({ dataDir, database: id, files: claimed }, 'store: the blob files belong to another database; not sweeping them (check DATA_DIR and DATABASE_URL)');
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
export async function createStore<B extends BlobStore = FileBlobStore>(opts: StoreOptions<B>): Promise<StoreOf<B>> {
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
    dialect = sqliteDialect(opts.dataDir);
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

  const referenced: ReferencedKeys = async (keys) => {
    if (keys.length === 0) return new Set();
    const { rows } = await sql<{ k: string }>`
      select blob as k from images where ${inList(engine, 'blob', keys)}
      union select onnx_blob from models where ${inList(engine, 'onnx_blob', keys)}
      union select image_blob from models where ${inList(engine, 'image_blob', keys)}`.execute(db);
    return new Set(rows.map((r) => r.k));
  };
  const blobs = (opts.blobs ?? ((refs) => createBlobStore(path.join(opts.dataDir, 'blobs'), { referenced: refs, tmpDir: path.join(opts.dataDir, 'tmp') }) as unknown as B))(referenced);

  const ctx: StoreContext = {
    db,
    engine,
    blobs,
    iso: () => new Date(now()).toISOString(),
    tx: (fn) => db.transaction().execute(fn),
  };

  const sweepBlobs = async (olderThanMs = SWEEP_MIN_AGE_MS) => {
    const { rows } = await sql<{ k: string }>`
      select blob as k from images
      union select onnx_blob from models where onnx_blob is not null
      union select image_blob from models where image_blob is not null`.execute(db);
    const removed = await blobs.sweep(new Set(rows.map((r) => r.k)), { olderThanMs });
    // Staged uploads a crashed process left behind.
    const cutoff = now() - olderThanMs;
    let stale = 0;
    for (const f of await fs.promises.readdir(blobs.tmpDir).catch(() => [] as string[])) {
      const file = path.join(blobs.tmpDir, f);
      const st = await fs.promises.stat(file).catch(() => null);
      if (st?.isFile() && st.mtimeMs <= cutoff) {
        await fs.promises.rm(file, { force: true });
        stale++;
      }
    }
    return removed + stale;
  };

  let closed = false;
  const store: StoreOf<B> = {
    engine,
    blobs,
    stats,
    ...targetQueries(ctx),
    ...algorithmQueries(ctx),
    ...modelQueries(ctx),
    ...itemQueries(ctx),
    ...assessmentQueries(ctx),
    ...accessQueries(ctx),
    ...webhookQueries(ctx),
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
      await db.destroy();
    },
  };

  // The start-up sweep removes the files this database does not name, so it must be the
  // database the files belong to: DATA_DIR's blobs pointed at another (DATABASE_URL changed, a
  // fresh PostgreSQL database next to an SQLite one's files) would otherwise lose them all.
  if (opts.blobs || (await ownsBlobDir(ctx, opts.dataDir, opts.log))) {
    const swept = await sweepBlobs();
    if (swept) opts.log?.info({ swept }, 'store: removed unreferenced blob files');
  }
  // Migrating and sweeping are not the caller's queries.
  stats.reads = 0;
  stats.writes = 0;
  return store;
}
