import type { Kysely } from 'kysely';
import { notFound } from '../../../errors.ts';
import type { Database } from '../db/schema.ts';
import { preparedShapes } from '../db/prepared.ts';
import { compilerOf, type Engine, inListValue, listValue, perEngine } from '../db/sql.ts';

type Checked = 'targets' | 'algorithms' | 'items' | 'models';

/** NOT_FOUND for the first of `ids` that `table` lacks (one read), before a write that needs them all. */
export async function requireAll(trx: Kysely<Database>, engine: Engine, table: Checked, what: string, ids: readonly string[]): Promise<void> {
  const found = new Set(await existingIds(trx, engine, table, ids));
  const missing = ids.find((id) => !found.has(id));
  if (missing !== undefined) throw notFound(what, missing);
}

/** Which of `ids` are rows of `table` (one read; in no particular order). */
export async function existingIds(trx: Kysely<Database>, engine: Engine, table: Checked, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  return (await existing(engine)(table).run(trx, { ids: listValue(engine, ids) })).map((r) => r.id);
}

/** The existence reads, prepared once per engine and table (each predict's commit runs two). */
const existing = perEngine((engine) =>
  preparedShapes((table: Checked, p) =>
    compilerOf(engine)
      .selectFrom(table)
      .select('id')
      .where(inListValue(engine, 'id', p('ids'))),
  ),
);
