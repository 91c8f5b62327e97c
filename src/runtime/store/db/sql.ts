import { createHash } from 'node:crypto';
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type RawBuilder,
  type SqlBool,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
} from 'kysely';
import type { Database, KeyedTable } from './schema.ts';

/**
 * The few places where SQLite and PostgreSQL need different SQL, each behind one helper. Every
 * query of the store is written once against these and Kysely's builder.
 */
export type Engine = 'sqlite' | 'postgres';

/**
 * `column IN (values)` with one bound parameter whatever the number of values, so the statement
 * is prepared once (SQLite: a JSON array unpacked by json_each; PostgreSQL: a text[]).
 */
export function inList(engine: Engine, column: string, values: readonly string[]): RawBuilder<SqlBool> {
  return inListValue(engine, column, listValue(engine, values));
}

/** `inList` with its one parameter given as is: a prepared statement's placeholder, or `listValue(values)`. */
export function inListValue(engine: Engine, column: string, value: unknown): RawBuilder<SqlBool> {
  return engine === 'postgres'
    ? sql<SqlBool>`${sql.ref(column)} = any(${value}::text[])`
    : sql<SqlBool>`${sql.ref(column)} in (select value from json_each(${value}))`;
}

/** The one parameter of `inList` for these values. */
export function listValue(engine: Engine, values: readonly string[]): unknown {
  const distinct = [...new Set(values)];
  return engine === 'postgres' ? distinct : JSON.stringify(distinct);
}

/** The ids in a model's `train_item_ids` JSON array, as a one-column (`value`) subquery. */
export function trainItemIdsOf(engine: Engine, modelId: string): RawBuilder<{ value: string }> {
  return engine === 'postgres'
    ? sql`select jsonb_array_elements_text(m.train_item_ids) as value from models m where m.id = ${modelId}`
    : sql`select j.value as value from models m, json_each(m.train_item_ids) j where m.id = ${modelId}`;
}

/**
 * Serialises transactions that keep an invariant across rows (one default target, one active
 * model per target) until the calling transaction ends. PostgreSQL: a transaction-scoped advisory
 * lock on a hash of `name`. SQLite: nothing to do, its transactions already hold the one write
 * lock from BEGIN IMMEDIATE.
 */
export async function exclusive(trx: Kysely<Database>, engine: Engine, name: string): Promise<void> {
  if (engine !== 'postgres') return;
  const key = createHash('sha256').update(`spectro:${name}`).digest().readBigInt64BE(0);
  await sql`select pg_advisory_xact_lock(${String(key)}::bigint)`.execute(trx);
}

/**
 * `n` fresh integer keys for rows of `table`, in ascending order: never handed out before and
 * never again, even when the rows are deleted or the transaction rolls back (gaps are fine).
 * PostgreSQL: the table's sequence (no lock held until commit). SQLite: the `key_sequences`
 * counter, under the transaction's write lock.
 */
export async function nextKeys(trx: Kysely<Database>, engine: Engine, table: KeyedTable, n: number): Promise<number[]> {
  if (n <= 0) return [];
  if (engine === 'postgres') {
    const { rows } = await sql<{ k: number }>`select nextval(${`${table}_key_seq`}::regclass)::integer as k from generate_series(1, ${n}::integer)`.execute(
      trx,
    );
    return rows.map((r) => r.k).sort((a, b) => a - b);
  }
  const row = await trx
    .updateTable('key_sequences')
    .set((eb) => ({ last: eb('last', '+', n) }))
    .where('name', '=', table)
    .returning('last')
    .executeTakeFirstOrThrow();
  return Array.from({ length: n }, (_, i) => row.last - n + 1 + i);
}

/** A UNIQUE or PRIMARY KEY violation, on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** `make(engine)` once per engine, on first use (statements prepared where only a transaction is at hand). */
export function perEngine<T>(make: (engine: Engine) => T): (engine: Engine) => T {
  const made = new Map<Engine, T>();
  return (engine) => {
    if (!made.has(engine)) made.set(engine, make(engine));
    return made.get(engine)!;
  };
}

/**
 * A query builder of `engine`'s SQL on no connection (Kysely's DummyDriver): it compiles, never
 * runs. For statements prepared where only a transaction is at hand (`prepared.ts`).
 */
export const compilerOf = perEngine((engine) => {
  const pg = engine === 'postgres';
  return new Kysely<Database>({
    dialect: {
      createAdapter: () => (pg ? new PostgresAdapter() : new SqliteAdapter()),
      createDriver: () => new DummyDriver(),
      createIntrospector: (k) => (pg ? new PostgresIntrospector(k) : new SqliteIntrospector(k)),
      createQueryCompiler: () => (pg ? new PostgresQueryCompiler() : new SqliteQueryCompiler()),
    },
  });
});
