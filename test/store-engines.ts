import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createStore, type LocalStore } from '../src/runtime/store/index.ts';

/**
 * Both engines for the tests that run on each. PostgreSQL is TEST_DATABASE_URL (default: the
 * local server, postgres://postgres@127.0.0.1:5432/postgres); every store a test opens gets its own
 * schema, dropped again afterwards, so concurrent runs on one server never see each other's rows.
 * A server that does not answer fails those tests. `TEST_DATABASE_URL=off` leaves PostgreSQL out
 * (with a warning), except in CI (`CI` set), where that is an error too.
 */
export type TestEngine = 'sqlite' | 'postgres';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const SCHEMA_PREFIX = 'spectro_test_';
/** Schemas of runs that crashed before dropping theirs are removed after this long. */
const STALE_AFTER_S = 24 * 3600;

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || DEFAULT_URL;
const postgresOff = TEST_DATABASE_URL.toLowerCase() === 'off';
if (postgresOff && process.env.CI) {
  throw new Error('TEST_DATABASE_URL=off in CI: the store tests must run on PostgreSQL too');
}
if (postgresOff) console.warn('TEST_DATABASE_URL=off: the PostgreSQL runs of the store and flow tests are left out');

/** The engines this run covers; `describe.each` over it. */
export const ENGINES: readonly TestEngine[] = postgresOff ? ['sqlite'] : ['sqlite', 'postgres'];
/** For `describe.skipIf`: true when PostgreSQL was switched off for this run. */
export const POSTGRES_OFF = postgresOff;

/** `url` working in `schema` (libpq's options parameter sets the search_path at connect). */
export function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  const options = [u.searchParams.get('options'), `-c search_path=${schema}`].filter(Boolean).join(' ');
  u.searchParams.set('options', options);
  return u.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not answering at ${TEST_DATABASE_URL} (TEST_DATABASE_URL): ${(err as Error).message}. ` +
        'Start it, point TEST_DATABASE_URL at one, or set TEST_DATABASE_URL=off to leave the PostgreSQL tests out.',
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface ScratchSchema {
  /** TEST_DATABASE_URL working in the new schema. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new, empty schema with a name no other run uses; `drop()` removes it with everything in it. */
export async function scratchSchema(): Promise<ScratchSchema> {
  const now = Math.floor(Date.now() / 1000);
  const name = `${SCHEMA_PREFIX}${now}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin(async (client) => {
    const { rows } = await client.query<{ nspname: string }>(`select nspname from pg_namespace where nspname like $1`, [`${SCHEMA_PREFIX}%`]);
    for (const { nspname } of rows) {
      const born = Number(nspname.slice(SCHEMA_PREFIX.length).split('_')[0]);
      if (Number.isFinite(born) && now - born > STALE_AFTER_S) await client.query(`drop schema if exists "${nspname}" cascade`).catch(() => {});
    }
    await client.query(`create schema "${name}"`);
  });
  let dropped = false;
  return {
    url: withSchema(TEST_DATABASE_URL, name),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin((client) => client.query(`drop schema if exists "${name}" cascade`));
    },
  };
}

export interface TestStore {
  store: LocalStore;
  dataDir: string;
  /** PostgreSQL URL of this store's schema; null on SQLite. */
  databaseUrl: string | null;
  /** Runs SQL on the store's database over a connection of its own (PostgreSQL: in its schema). */
  query<R = Record<string, unknown>>(text: string): Promise<R[]>;
  /** Closes the store and opens it again on the same database and files. */
  reopen(): Promise<LocalStore>;
  /** Closes the store; removes its files and its schema. */
  cleanup(): Promise<void>;
}

/** A store on a fresh data directory and, for PostgreSQL, a fresh schema. */
export async function openTestStore(engine: TestEngine, opts: { now?: () => number } = {}): Promise<TestStore> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `spectro-store-${engine}-`));
  const schema = engine === 'postgres' ? await scratchSchema() : null;
  const databaseUrl = schema?.url ?? null;
  const open = () => createStore({ dataDir, databaseUrl, ...(opts.now ? { now: opts.now } : {}) });
  const t: TestStore = {
    store: await open().catch(async (err) => {
      await schema?.drop();
      throw err;
    }),
    dataDir,
    databaseUrl,
    async query<R>(text: string) {
      if (!databaseUrl) {
        const db = new Database(path.join(dataDir, 'spectro.db'), { readonly: true });
        try {
          return db.prepare(text).all() as R[];
        } finally {
          db.close();
        }
      }
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        return (await client.query(text)).rows as R[];
      } finally {
        await client.end();
      }
    },
    async reopen() {
      await t.store.close();
      t.store = await open();
      return t.store;
    },
    async cleanup() {
      await t.store.close();
      await schema?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}
