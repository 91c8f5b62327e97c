import { sql, type Migration } from 'kysely';
import { KEYED_TABLES } from '../schema.ts';
import type { Engine } from '../sql.ts';
import { columnTypes, type MigrationDb } from './column-types.ts';

/**
 * Stable integer keys for the records the REST API types as int32 (target_id and the models'
 * context_id, algorithm_parameter_id, annotation_id). Rows that exist get keys in creation order
 * (their ids are UUIDv7); new rows take theirs from `nextKeys` (sql.ts): a sequence per table on
 * PostgreSQL, the `key_sequences` counters on SQLite. A key is never handed out twice.
 *
 * SQLite cannot add a NOT NULL column without a default to a table that has rows, so there the
 * column stays nullable (the store always sets it); PostgreSQL gets NOT NULL and a default.
 */
export function integerKeys(engine: Engine): Migration {
  const t = columnTypes(engine);
  return {
    async up(db: MigrationDb) {
      if (engine === 'sqlite') {
        await db.schema
          .createTable('key_sequences')
          .addColumn('name', t.text, (c) => c.primaryKey())
          .addColumn('last', t.int, (c) => c.notNull())
          .modifyEnd(sql`strict`)
          .execute();
      }
      for (const table of KEYED_TABLES) {
        const ref = sql.table(table);
        await db.schema.alterTable(table).addColumn('key', t.int).execute();
        await sql`update ${ref} set key = r.n
          from (select id, row_number() over (order by id) as n from ${ref}) as r
          where ${ref}.id = r.id`.execute(db);
        await db.schema.createIndex(`${table}_key`).on(table).column('key').unique().execute();
        if (engine === 'postgres') {
          const seq = `${table}_key_seq`;
          await sql`create sequence ${sql.id(seq)} as integer owned by ${sql.id(table, 'key')}`.execute(db);
          await sql`select setval(${seq}::regclass, coalesce((select max(key) from ${ref}), 0) + 1, false)`.execute(db);
          await sql`alter table ${ref} alter column key set default nextval(${sql.lit(seq)}::regclass), alter column key set not null`.execute(db);
        } else {
          await sql`insert into key_sequences (name, last) select ${table}, coalesce(max(key), 0) from ${ref}`.execute(db);
        }
      }
    },
  };
}
