import { PostgresDialect } from 'kysely';
import pg from 'pg';

const INT8 = 20;
const TIMESTAMPTZ = 1184;

/**
 * Values as the store's records want them, for this pool only (pg's global parsers stay as they
 * are): `count(*)` and other bigints as numbers (they stay far below 2^53 here), timestamptz as
 * ISO 8601 text like the SQLite columns hold.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8) return (v: string) => Number(v);
    if (oid === TIMESTAMPTZ) {
      const parseDate = pg.types.getTypeParser(TIMESTAMPTZ) as (v: string) => Date;
      return (v: string) => parseDate(v).toISOString();
    }
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PostgresOptions {
  /** `postgres://user:password@host:port/db`; libpq's `?options=-c search_path=…` picks a schema. */
  url: string;
  /** Connections held at most (default 10). */
  poolSize?: number;
  /** An idle connection failed (server restart, failover). */
  onError?: (err: Error) => void;
}

/** A pool on DATABASE_URL. Connections are opened on first use. */
export function postgresDialect(opts: PostgresOptions): { dialect: PostgresDialect; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? 10,
    types,
    application_name: 'spectro-gateway',
    idleTimeoutMillis: 30_000,
    // A server that does not answer fails the query (and readiness) instead of holding it forever.
    connectionTimeoutMillis: 10_000,
  });
  // An idle connection the server drops (restart, failover) must not crash the process: the
  // pool replaces it on the next query, and that query reports the outage.
  pool.on('error', (err) => opts.onError?.(err));
  return { dialect: new PostgresDialect({ pool }), pool };
}

/** True for the URLs that select PostgreSQL. */
export const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//i.test(url);
