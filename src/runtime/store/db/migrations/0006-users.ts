import { sql, type CreateTableBuilder, type Migration } from 'kysely';
import type { Engine } from '../sql.ts';
import { columnTypes, type MigrationDb } from './column-types.ts';

/**
 * People who sign in to the dashboard (API clients stay for machines):
 * - `users`: a name, a role (viewer, operator, engineer, admin) and a memory-hard password hash;
 *   `password_hash` is null for people who only sign in through single sign-on.
 * - `user_sessions`: one row per signed-in browser. The cookie carries a random token; only its
 *   SHA-256 is stored (`id`), so a copy of the database signs nobody in. `expires_at` slides
 *   forward on use; `revoked_at` set means signed out (kept a while for the audit trail).
 */
export function users(engine: Engine): Migration {
  const t = columnTypes(engine);
  // biome-ignore lint/suspicious/noExplicitAny: a builder of whichever table the migration makes
  const strict = <B extends CreateTableBuilder<any, any>>(b: B): B => (engine === 'sqlite' ? (b.modifyEnd(sql`strict`) as B) : b);
  return {
    async up(db: MigrationDb) {
      await strict(
        db.schema
          .createTable('users')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('name', t.text, (c) => c.notNull().unique())
          .addColumn('role', t.text, (c) => c.notNull())
          .addColumn('password_hash', t.text)
          .addColumn('disabled', t.flag, (c) => c.notNull().defaultTo(false))
          .addColumn('created_at', t.time, (c) => c.notNull())
          .addColumn('updated_at', t.time, (c) => c.notNull()),
      ).execute();

      await strict(
        db.schema
          .createTable('user_sessions')
          .addColumn('id', t.text, (c) => c.primaryKey())
          .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('user_agent', t.text)
          .addColumn('created_at', t.time, (c) => c.notNull())
          .addColumn('last_seen_at', t.time, (c) => c.notNull())
          .addColumn('expires_at', t.time, (c) => c.notNull())
          .addColumn('revoked_at', t.time),
      ).execute();
      await db.schema.createIndex('user_sessions_user').on('user_sessions').columns(['user_id', 'created_at']).execute();
    },
  };
}
