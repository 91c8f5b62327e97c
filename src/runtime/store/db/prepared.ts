import type { Compilable, Kysely } from 'kysely';

/**
 * Statements of a fixed shape, built and compiled by Kysely once; each run binds its own values.
 *
 * Kysely builds an immutable operation tree and compiles it to SQL on every execute: 25-75 us a
 * statement here, more than SQLite takes for an indexed read, paid by every request on its
 * hottest reads (a dashboard's `targets { items { images } } }`, each predict's lookups). A
 * prepared statement is built once with named placeholders where its values go; a run copies the
 * compiled parameters with the placeholders replaced. The driver's own statement cache (SQLite)
 * or PostgreSQL's protocol then sees the very same SQL text.
 *
 * Placeholders must reach the SQL as bound values (`eb('id', '=', p('id'))`, `.limit(p('limit'))`,
 * `sql\`${p('ids')}\``): building fails when one does not, rather than running with a stale value.
 */
export type Placeholder = <T = never>(name: string) => T;

const MARK = '\u0000spectro.prepared:';

/** The database or a transaction on it. */
// biome-ignore lint/suspicious/noExplicitAny: any schema; the statement's builder typed its rows
type Executor = Pick<Kysely<any>, 'executeQuery'>;

export interface Prepared<R> {
  /** The rows for these values (one per placeholder name). */
  run(db: Executor, values: Readonly<Record<string, unknown>>): Promise<R[]>;
  /** The SQL as compiled (tests, logs). */
  readonly sql: string;
}

export function prepare<R>(build: (p: Placeholder) => Compilable<R>): Prepared<R> {
  const names = new Set<string>();
  const compiled = build(((name: string) => {
    names.add(name);
    return `${MARK}${name}`;
  }) as Placeholder).compile();
  const slots = compiled.parameters.map((v) => (typeof v === 'string' && v.startsWith(MARK) ? v.slice(MARK.length) : null));
  for (const name of names) {
    if (!slots.includes(name)) throw new Error(`prepared statement: placeholder "${name}" is not a bound value in: ${compiled.sql}`);
  }
  const fixed = compiled.parameters;
  return {
    sql: compiled.sql,
    async run(db, values) {
      const parameters = slots.map((name, i) => {
        if (name === null) return fixed[i];
        if (!(name in values)) throw new Error(`prepared statement: no value for "${name}"`);
        return values[name];
      });
      return (await db.executeQuery<R>({ ...compiled, parameters })).rows;
    },
  };
}

/**
 * Prepared statements whose shape depends on a small key (how many keys a batch has, which
 * filters are set): built on first use per key. Keys come from code, not from requests, so the
 * set stays small; `max` guards it anyway (past it, the oldest shape is dropped).
 */
export function preparedShapes<K extends string, R>(build: (key: K, p: Placeholder) => Compilable<R>, max = 512): (key: K) => Prepared<R> {
  const shapes = new Map<K, Prepared<R>>();
  return (key) => {
    let hit = shapes.get(key);
    if (!hit) {
      hit = prepare((p) => build(key, p));
      shapes.set(key, hit);
      if (shapes.size > max) shapes.delete(shapes.keys().next().value as K);
    }
    return hit;
  };
}

/** Inserts of up to this many rows are prepared (a predict's commit: one to a few rows a table). */
export const PREPARED_INSERT_ROWS = 16;

/**
 * `insertInto(table).values(rows)`, prepared per table, row count and columns (the first row's
 * keys; every row must have the same): a predict's commit inserts one assessment, its boxes and
 * its pictures' rows this way. `finish` adds what follows the values (on conflict, returning).
 * `compiler` only compiles (compilerOf); the statement runs on `db`, a transaction usually.
 */
// biome-ignore lint/suspicious/noExplicitAny: any table of any schema; the caller's rows and `finish` give the types
export function preparedInsert<R = unknown>(compiler: Kysely<any>, table: string, finish: (q: any) => Compilable<R> = (q) => q) {
  const build = (shape: string, p: Placeholder) => {
    const [n, columns] = shape.split('|') as [string, string];
    const names = columns.split(',');
    const values = Array.from({ length: Number(n) }, (_, i) => Object.fromEntries(names.map((c) => [c, p(`${i}.${c}`)])));
    return finish(compiler.insertInto(table).values(values));
  };
  const shapes = preparedShapes(build);
  return async (db: Executor, rows: readonly Record<string, unknown>[]): Promise<R[]> => {
    if (rows.length === 0) return [];
    const columns = Object.keys(rows[0]!);
    const values: Record<string, unknown> = {};
    rows.forEach((row, i) => {
      for (const c of columns) values[`${i}.${c}`] = row[c];
    });
    const shape = `${rows.length}|${columns.join(',')}`;
    // Bulk inserts (imports, uploads of many pictures) are built per call: their building is
    // small beside their rows, and a kept statement per row count would hold megabytes of SQL.
    return (rows.length <= PREPARED_INSERT_ROWS ? shapes(shape) : prepare((p) => build(shape, p))).run(db, values);
  };
}
