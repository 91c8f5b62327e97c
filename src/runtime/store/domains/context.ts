import type { Kysely } from 'kysely';
import type { BlobStore } from '../blobs.ts';
import type { Database } from '../db/schema.ts';
import type { Engine } from '../db/sql.ts';

/** What every domain's queries run with. */
export interface StoreContext {
  db: Kysely<Database>;
  engine: Engine;
  blobs: BlobStore;
  /** Now, as the ISO text the records carry. */
  iso(): string;
  /**
   * Runs `fn` in one transaction and answers its result. Inside, use only `trx`: on SQLite the
   * one connection is the transaction's until it ends, so a query on `db` would wait forever.
   */
  tx<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
}

/** Rows per INSERT: far below either engine's limit on bound parameters (SQLite 32766). */
export const INSERT_CHUNK = 500;

export function chunks<T>(list: readonly T[], size = INSERT_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
