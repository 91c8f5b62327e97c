import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postgresDialect } from '../src/runtime/store/db/postgres.ts';
import { PREPARED_INSERT_ROWS, prepare, preparedInsert, preparedShapes } from '../src/runtime/store/db/prepared.ts';
import { sqliteDialect } from '../src/runtime/store/db/sqlite.ts';
import { compilerOf, type Engine, inListValue, listValue } from '../src/runtime/store/db/sql.ts';
import { ENGINES, scratchSchema, type ScratchSchema } from './store-engines.ts';

interface Parts {
  parts: { id: string; line: string; good: boolean; n: number };
}

describe.each(ENGINES)('prepared statements on %s', (engine: Engine) => {
  let db: Kysely<Parts>;
  let dir: string;
  let schema: ScratchSchema | null = null;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-prepared-'));
    schema = engine === 'postgres' ? await scratchSchema() : null;
    db = new Kysely<Parts>({ dialect: schema ? postgresDialect({ url: schema.url }).dialect : sqliteDialect(dir) });
    await db.schema
      .createTable('parts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('line', 'text', (c) => c.notNull())
      .addColumn('good', 'boolean', (c) => c.notNull())
      .addColumn('n', 'integer', (c) => c.notNull())
      .execute();
    await db
      .insertInto('parts')
      .values([
        { id: 'a', line: 'L1', good: true, n: 1 },
        { id: 'b', line: 'L1', good: false, n: 2 },
        { id: 'c', line: 'L2', good: true, n: 3 },
      ])
      .execute();
  });
  afterEach(async () => {
    await db.destroy();
    await schema?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('binds new values on every run of a statement built once, the same rows as the builder', async () => {
    const byLine = prepare((p) =>
      db.selectFrom('parts').selectAll().where('line', '=', p('line')).where('good', '=', p('good')).orderBy('id').limit(p('limit')),
    );
    const built = (line: string, good: boolean, limit: number) =>
      db.selectFrom('parts').selectAll().where('line', '=', line).where('good', '=', good).orderBy('id').limit(limit).execute();
    for (const [line, good, limit] of [
      ['L1', true, 10],
      ['L1', false, 10],
      ['L2', true, 10],
      ['L2', false, 10],
      ['L1', true, 0],
    ] as const) {
      const rows = await byLine.run(db, { line, good, limit });
      expect(rows).toEqual(await built(line, good, limit));
    }
    expect((await byLine.run(db, { line: 'L1', good: false, limit: 5 })).map((r) => r.id)).toEqual(['b']);
  });

  it('takes a list as one parameter (inList), inside transactions too', async () => {
    const byIds = prepare((p) =>
      db
        .selectFrom('parts')
        .select('id')
        .where(inListValue(engine, 'id', p('ids')))
        .orderBy('id'),
    );
    expect((await byIds.run(db, { ids: listValue(engine, ['c', 'a', 'zz', 'a']) })).map((r) => r.id)).toEqual(['a', 'c']);
    expect(await byIds.run(db, { ids: listValue(engine, []) })).toEqual([]);
    const inTx = await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('parts').where('id', '=', 'a').execute();
      return byIds.run(trx, { ids: listValue(engine, ['a', 'b']) });
    });
    expect(inTx.map((r) => r.id)).toEqual(['b']);
  });

  it('refuses a placeholder that is not a bound value, and a run without one of its values', async () => {
    // A placeholder used as a column name would be compiled into the SQL text, not bound.
    expect(() => prepare((p) => db.selectFrom('parts').select(p<'id'>('column')))).toThrow(/placeholder "column" is not a bound value/);
    const byId = prepare((p) => db.selectFrom('parts').select('n').where('id', '=', p('id')));
    await expect(byId.run(db, {})).rejects.toThrow(/no value for "id"/);
  });

  it('builds a statement once per shape', async () => {
    let builds = 0;
    const firstN = preparedShapes((n: `${number}`, p) => {
      builds++;
      return db
        .selectFrom('parts')
        .select('id')
        .where(
          'n',
          'in',
          Array.from({ length: Number(n) }, (_, i) => p(`v${i}`)),
        )
        .orderBy('id');
    });
    expect((await firstN('2').run(db, { v0: 1, v1: 3 })).map((r) => r.id)).toEqual(['a', 'c']);
    expect((await firstN('2').run(db, { v0: 2, v1: 2 })).map((r) => r.id)).toEqual(['b']);
    expect((await firstN('1').run(db, { v0: 3 })).map((r) => r.id)).toEqual(['c']);
    expect(builds).toBe(2);
  });

  it('inserts rows with a statement per row count, small and bulk alike, with what follows the values', async () => {
    const insert = preparedInsert<{ id: string; n: number }>(compilerOf(engine) as any, 'parts', (q) => q.returning(['id', 'n']));
    const row = (i: number) => ({ id: `p${i}`, line: 'L9', good: i % 2 === 0, n: 100 + i });
    for (const count of [1, 2, 1, PREPARED_INSERT_ROWS + 5]) {
      const start = (await db.selectFrom('parts').select('id').execute()).length;
      const rows = Array.from({ length: count }, (_, i) => row(start + i));
      const returned = await insert(db, rows);
      expect(returned.map((r) => r.id).sort()).toEqual(rows.map((r) => r.id).sort());
    }
    const stored = await db.selectFrom('parts').selectAll().where('line', '=', 'L9').orderBy('n').execute();
    expect(stored).toHaveLength(1 + 2 + 1 + PREPARED_INSERT_ROWS + 5);
    expect(stored[0]).toMatchObject({ id: 'p3', n: 103 });
    expect(await insert(db, [])).toEqual([]);
  });
});
