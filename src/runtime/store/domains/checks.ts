import type { Kysely } from 'kysely';
import { notFound } from '../../../errors.ts';
import type { Database } from '../db/schema.ts';
import { inList, type Engine } from '../db/sql.ts';

/** NOT_FOUND for the first of `ids` that `table` lacks (one read), before a write that needs them all. */
export async function requireAll(
  trx: Kysely<Database>,
  engine: Engine,
  table: 'targets' | 'algorithms' | 'items' | 'models',
  what: string,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  const found = new Set(
    (
      await trx
        .selectFrom(table)
        .select('id')
        .where(inList(engine, 'id', ids))
        .execute()
    ).map((r) => r.id),
  );
  const missing = ids.find((id) => !found.has(id));
  if (missing !== undefined) throw notFound(what, missing);
}
