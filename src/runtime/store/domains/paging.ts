import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import { badInput } from '../../../errors.ts';
import { decodeCursor, encodeCursor } from '../ids.ts';
import { inList } from '../db/sql.ts';
import { type Prepared, preparedShapes } from '../db/prepared.ts';
import type { PageArgs } from '../store.ts';
import type { KeysetPage, Page } from '../types.ts';
import type { StoreContext } from './context.ts';

export const PAGE_DEFAULT = 20;
export const PAGE_MAX = 100;
const UNION_TERMS = 100;

/** The paged tables: newest first by id (UUIDv7, so id order is creation order). */
type Paged = 'items' | 'models' | 'webhook_deliveries' | 'audit_events';
// The helpers serve both tables; the callers' mappers give the rows their types.
// biome-ignore lint/suspicious/noExplicitAny: the helpers serve several tables; the callers' mappers type the rows
export type Filter = (eb: ExpressionBuilder<any, any>) => Expression<SqlBool>;
// biome-ignore lint/suspicious/noExplicitAny: the helpers serve several tables; the callers' mappers type the rows
type Row = any;

export function pageArgs(args: PageArgs): { limit: number; afterId: string | null } {
  const first = args.first ?? PAGE_DEFAULT;
  if (!Number.isInteger(first) || first < 0) throw badInput('first must be a non-negative integer', { argument: 'first' });
  let afterId: string | null = null;
  if (args.after) {
    afterId = decodeCursor(args.after);
    if (!afterId) throw badInput('after is not a valid cursor', { argument: 'after' });
  }
  return { limit: Math.min(first, PAGE_MAX), afterId };
}

const pageOf = <T>(rows: Row[], limit: number, totalCount: number, map: (r: Row) => T & { id: string }): Page<T> => {
  const nodes = rows.slice(0, limit).map(map);
  const last = nodes.at(-1);
  return { nodes, totalCount, hasNextPage: rows.length > limit, endCursor: last ? encodeCursor(last.id) : null };
};

/** How many rows match (one read; it visits every one of them, so only when asked for). */
export async function count(ctx: StoreContext, table: Paged, where: Filter[]): Promise<number> {
  const { n } = await ctx.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where((eb) => eb.and(where.map((w) => w(eb))))
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** One keyset page: two reads (the filtered count, then `limit + 1` rows after the cursor). */
export async function page<T>(ctx: StoreContext, table: Paged, where: Filter[], args: PageArgs, map: (r: Row) => T & { id: string }): Promise<Page<T>> {
  const [n, rows] = await Promise.all([count(ctx, table, where), keysetPage(ctx, table, where, args, map)]);
  return { ...rows, totalCount: n };
}

/** One keyset page without its count: `limit + 1` rows after the cursor. */
export async function keysetPage<T>(
  ctx: StoreContext,
  table: Paged,
  where: Filter[],
  args: PageArgs,
  map: (r: Row) => T & { id: string },
): Promise<KeysetPage<T>> {
  const { limit, afterId } = pageArgs(args);
  const scoped: Filter = (eb) => eb.and(where.map((w) => w(eb)));
  const rows = await ctx.db
    .selectFrom(table)
    .selectAll()
    .where(scoped)
    .$if(afterId !== null, (q) => q.where('id', '<', afterId!))
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const { totalCount: _, ...keyset } = pageOf(rows, limit, 0, map);
  return keyset;
}

/**
 * `page` for each of many `column` values at once (one page each, same arguments), in one read:
 * a `limit + 1` keyset read per key, joined with UNION ALL. Each read walks the `(column, id)`
 * index from the newest row and stops at its limit, so a page costs the same with 10 rows behind
 * it or a million (a `row_number()` over the whole partition read every row of the key, 36 ms for
 * a target of 20,000 pictures). Pages carry no count: `countsBy` gives them when asked for.
 */
export async function pagesBy<T>(
  ctx: StoreContext,
  table: Paged,
  column: 'target_id',
  keys: readonly string[],
  equals: Readonly<Record<string, string>>,
  args: PageArgs,
  map: (r: Row) => T & { id: string },
): Promise<Map<string, KeysetPage<T>>> {
  const { limit, afterId } = pageArgs(args);
  const pages = new Map<string, KeysetPage<T>>();
  const distinct = [...new Set(keys)];
  if (distinct.length === 0) return pages;
  const filters = Object.keys(equals).sort();
  const rows: Row[] = [];
  // SQLite allows 500 terms in one compound SELECT: a statement per UNION_TERMS keys.
  for (let i = 0; i < distinct.length; i += UNION_TERMS) {
    const batch = distinct.slice(i, i + UNION_TERMS);
    const statement = unionPages(ctx)(`${table}|${column}|${batch.length}|${filters.join(',')}|${afterId === null ? '' : 'after'}`);
    const values: Record<string, unknown> = { limit: limit + 1, after: afterId };
    batch.forEach((key, j) => (values[`k${j}`] = key));
    for (const f of filters) values[`eq.${f}`] = equals[f];
    rows.push(...(await statement.run(ctx.db, values)));
  }
  const byKey = new Map<string, Row[]>();
  for (const r of rows) {
    const group = byKey.get(r[column]);
    if (group) group.push(r);
    else byKey.set(r[column], [r]);
  }
  for (const key of distinct) {
    // Newest first within a key (the union keeps no order of its own).
    const group = (byKey.get(key) ?? []).sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const { totalCount: _, ...page } = pageOf(group, limit, 0, map);
    pages.set(key, page);
  }
  return pages;
}

/**
 * The UNION ALL of `pagesBy`, prepared per shape: `table|column|keys|filters|after` (at most
 * UNION_TERMS keys, a few filter sets): the statements are built once per store.
 */
const unionShapes = new WeakMap<StoreContext['db'], (shape: string) => Prepared<Row>>();
function unionPages(ctx: StoreContext): (shape: string) => Prepared<Row> {
  let shapes = unionShapes.get(ctx.db);
  if (!shapes) {
    // biome-ignore lint/suspicious/noExplicitAny: the helpers serve several tables; the callers' mappers type the rows
    const db = ctx.db as unknown as Kysely<any>;
    shapes = preparedShapes((shape: string, p) => {
      const [table, column, n, filters, after] = shape.split('|') as [Paged, string, string, string, string];
      const one = (j: number) =>
        db
          .selectFrom(
            db
              .selectFrom(table)
              .selectAll()
              .where(column, '=', p(`k${j}`))
              .$call((q) =>
                filters
                  .split(',')
                  .filter(Boolean)
                  .reduce((w, f) => w.where(f, '=', p(`eq.${f}`)), q),
              )
              .$if(after !== '', (q) => q.where('id', '<', p('after')))
              .orderBy('id', 'desc')
              .limit(p('limit'))
              .as('p'),
          )
          .selectAll();
      const [first, ...rest] = Array.from({ length: Number(n) }, (_, j) => one(j));
      return rest.reduce((q, next) => q.unionAll(next), first!);
    });
    unionShapes.set(ctx.db, shapes);
  }
  return shapes;
}

/** How many rows each `column` value has under `where` (one grouped read; absent keys count 0). */
export async function countsBy(ctx: StoreContext, table: Paged, column: 'target_id', keys: readonly string[], where: Filter[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (keys.length === 0) return counts;
  const scoped: Filter = (eb) => eb.and([inList(ctx.engine, column, keys), ...where.map((w) => w(eb))]);
  const rows = await ctx.db
    .selectFrom(table)
    .select((eb) => [eb.ref(column).as('k'), eb.fn.countAll<number>().as('n')])
    .where(scoped)
    .groupBy(column)
    .execute();
  for (const r of rows as Row[]) counts.set(r.k as string, Number(r.n));
  for (const key of keys) if (!counts.has(key)) counts.set(key, 0);
  return counts;
}
