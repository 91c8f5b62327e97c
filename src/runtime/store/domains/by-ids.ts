import type { Kysely, Selectable } from 'kysely';
import { prepare } from '../db/prepared.ts';
import type { Database } from '../db/schema.ts';
import { inListValue, listValue } from '../db/sql.ts';
import type { StoreContext } from './context.ts';

/** Tables read by their `id` column. */
type WithId = { [T in keyof Database]: Database[T] extends { id: string } ? T : never }[keyof Database];

/**
 * The rows of `table` whose ids are given (in no particular order; unknown ids left out), mapped
 * with `map`: one prepared statement per table and store, whatever the number of ids. Every
 * `…ByIds` of the store reads through this; the DataLoaders of each request call them.
 */
export function byIds<T extends WithId, R>(ctx: StoreContext, table: T, map: (row: Selectable<Database[T]>) => R): (ids: readonly string[]) => Promise<R[]> {
  const { engine } = ctx;
  // The builder's types do not follow a table chosen by a type parameter: the rows are typed by `map`.
  // biome-ignore lint/suspicious/noExplicitAny: one statement shape for every table with an id
  const db = ctx.db as unknown as Kysely<any>;
  const statement = prepare((p) =>
    db
      .selectFrom(table)
      .selectAll()
      .where(inListValue(engine, 'id', p('ids'))),
  );
  return async (ids) => {
    if (ids.length === 0) return [];
    return (await statement.run(ctx.db, { ids: listValue(engine, ids) })).map((r) => map(r as Selectable<Database[T]>));
  };
}
