import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import { badInput } from '../../../errors.ts';
import { decodeCursor, encodeCursor } from '../ids.ts';
import { inList } from '../db/sql.ts';
import type { PageArgs } from '../store.ts';
import type { Page } from '../types.ts';
import type { StoreContext } from './context.ts';

export const PAGE_DEFAULT = 20;
export const PAGE_MAX = 100;

/** The paged tables: newest first by id (UUIDv7, so id order is creation order). */
type Paged = 'items' | 'models' | 'webhook_deliveries' | 'audit_events';
// The helpers serve both tables; the callers' mappers give the rows their types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Filter = (eb: ExpressionBuilder<any, any>) => Expression<SqlBool>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
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

/** One keyset page: two reads (the filtered count, then `limit + 1` rows after the cursor). */
export async function page<T>(ctx: StoreContext, table: Paged, where: Filter[], args: PageArgs, map: (r: Row) => T & { id: string }): Promise<Page<T>> {
  const { limit, afterId } = pageArgs(args);
  const scoped: Filter = (eb) => eb.and(where.map((w) => w(eb)));
  const { n } = await ctx.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(scoped)
    .executeTakeFirstOrThrow();
  const rows = await ctx.db
    .selectFrom(table)
    .selectAll()
    .where(scoped)
    .$if(afterId !== null, (q) => q.where('id', '<', afterId!))
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  return pageOf(rows, limit, Number(n), map);
}

/**
 * `page` for each of many `column` values at once (one page each, same arguments): two reads
 * whatever the number of keys, the counts grouped and the rows numbered per key.
 */
export async function pagesBy<T>(
  ctx: StoreContext,
  table: Paged,
  column: 'target_id',
  keys: readonly string[],
  where: Filter[],
  args: PageArgs,
  map: (r: Row) => T & { id: string },
): Promise<Map<string, Page<T>>> {
  const { limit, afterId } = pageArgs(args);
  const pages = new Map<string, Page<T>>();
  if (keys.length === 0) return pages;
  const scoped: Filter = (eb) => eb.and([inList(ctx.engine, column, keys), ...where.map((w) => w(eb))]);
  const counts = await ctx.db
    .selectFrom(table)
    .select((eb) => [eb.ref(column).as('k'), eb.fn.countAll<number>().as('n')])
    .where(scoped)
    .groupBy(column)
    .execute();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const db = ctx.db as unknown as Kysely<any>;
  const numbered = db
    .selectFrom(table)
    .selectAll()
    .select((eb) => eb.fn.agg<number>('row_number').over((o) => o.partitionBy(column).orderBy('id', 'desc')).as('page_row'))
    .where(scoped)
    .$if(afterId !== null, (q) => q.where('id', '<', afterId!));
  const rows = await db
    .selectFrom(numbered.as('p'))
    .selectAll()
    .where('page_row', '<=', limit + 1)
    .orderBy('id', 'desc')
    .execute();
  const byKey = new Map<string, Row[]>();
  for (const r of rows) {
    const group = byKey.get(r[column]);
    if (group) group.push(r);
    else byKey.set(r[column], [r]);
  }
  const totals = new Map(counts.map((r: Row) => [r.k as string, Number(r.n)]));
  for (const key of keys) pages.set(key, pageOf(byKey.get(key) ?? [], limit, totals.get(key) ?? 0, map));
  return pages;
}
