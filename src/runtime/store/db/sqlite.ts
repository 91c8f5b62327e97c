import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteStatement,
} from 'kysely';

/** Prepared statements kept per connection: the store issues a few dozen distinct ones. */
const STATEMENT_CACHE = 256;

/**
 * better-sqlite3 as Kysely's `SqliteDatabase`, with two things Kysely's own driver leaves out:
 * prepared statements are cached (Kysely prepares every query anew, which costs more than a
 * point read itself), and JS booleans are bound as 1/0 (SQLite has no boolean type and
 * better-sqlite3 refuses them), so the queries can write booleans on both engines.
 */
function cachingDatabase(db: Database.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  const bind = (params: ReadonlyArray<unknown>) =>
    params.some((p) => typeof p === 'boolean') ? params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p)) : params;
  return {
    close: () => db.close(),
    prepare(sql) {
      const hit = cache.get(sql);
      if (hit) {
        // Map order is insertion order: re-insert to keep the most recent last.
        cache.delete(sql);
        cache.set(sql, hit);
        return hit;
      }
      const stmt = db.prepare(sql);
      const wrapped: SqliteStatement = {
        reader: stmt.reader,
        all: (params) => stmt.all(bind(params)),
        run: (params) => stmt.run(bind(params)),
        iterate: (params) => stmt.iterate(bind(params)),
      };
      cache.set(sql, wrapped);
      if (cache.size > STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      return wrapped;
    },
  };
}

/**
 * Transactions take the write lock at BEGIN (IMMEDIATE), as the store did before Kysely: a
 * transaction that reads, then writes cannot fail half-way with SQLITE_BUSY because another
 * process wrote in between, and two processes migrating at once run one after the other.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** SQLite's DDL is transactional; Kysely's adapter says otherwise and would migrate outside one. */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class EmbeddedSqliteDialect extends SqliteDialect {
  readonly #database: SqliteDatabase;
  constructor(database: SqliteDatabase) {
    super({ database });
    this.#database = database;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.#database });
  }
  override createAdapter(): SqliteAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/**
 * The database holds the JWT signing key and the URL-signing secret: DATA_DIR is made 0700 and
 * the database files 0600 (a local user could read them and forge tokens). Where the gateway does
 * not own them (a mounted volume), it leaves them as they are.
 */
function keepPrivate(dir: string, files: string[]): void {
  const tighten = (p: string, mode: number) => {
    try {
      if ((fs.statSync(p).mode & 0o077) !== 0) fs.chmodSync(p, mode);
    } catch {
      // missing (no WAL yet) or not ours
    }
  };
  tighten(dir, 0o700);
  for (const f of files) tighten(f, 0o600);
}

/**
 * How a commit reaches the disk (SQLITE_SYNCHRONOUS). Both keep the file consistent after any
 * crash (WAL). `full`: each commit is fsynced before it returns, so an answered request survives
 * a power loss or an OS crash too. `normal`: commits are not fsynced (the WAL is, at each
 * checkpoint): a process crash (kill -9) still loses nothing, a power loss or an OS crash can lose
 * the commits of the last moments. The fsync is most of a commit's cost (3-10 ms on this
 * project's machines), paid on the event loop, once per group commit.
 */
export type SqliteSynchronous = 'full' | 'normal';

/** The embedded database file `<dataDir>/spectro.db` (WAL, foreign keys on, fsync per `synchronous`). */
export function sqliteDialect(dataDir: string, synchronous: SqliteSynchronous = 'full'): SqliteDialect {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'spectro.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  keepPrivate(dataDir, [file, `${file}-wal`, `${file}-shm`]);
  db.pragma(synchronous === 'normal' ? 'synchronous = NORMAL' : 'synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return new EmbeddedSqliteDialect(cachingDatabase(db));
}
