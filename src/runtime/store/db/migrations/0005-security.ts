import { sql, type CreateTableBuilder, type Migration } from 'kysely';
import type { Engine } from '../sql.ts';
import { columnTypes, type MigrationDb } from './column-types.ts';

/**
 * Security controls (docs/security.md):
 * - `clients.revoked_at`: a revoked API client's tokens stop working at once (checked on every
 *   request and on open sockets); `clients.rotated_at`: when its secret was last replaced.
 *   `clients.scope` now holds space-separated scopes (`read predict train admin`; `all` still read).
 * - `audit_events`: who (a client, or a user) did what to what and when; newest first by id.
 */
export function security(engine: Engine): Migration {
  const t = columnTypes(engine);
  // biome-ignore lint/suspicious/noExplicitAny: a builder of whichever table the migration makes
  const strict = <B extends CreateTableBuilder<any, any>>(b: B): B => (engine === 'sqlite' ? (b.modifyEnd(sql`strict`) as B) : b);
  return {
    async up(db: MigrationDb) {
      await db.schema.alterTable('clients').addColumn('revoked_at', t.time).execute();
      await db.schema.alterTable('clients').addColumn('rotated_at', t.time).execute();
      await strict(
        db.schema
          .createTable('audit_events')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('at', t.time, (c) => c.notNull())
          .addColumn('actor', t.text, (c) => c.notNull())
          .addColumn('actor_kind', t.text, (c) => c.notNull())
          .addColumn('action', t.text, (c) => c.notNull())
          .addColumn('target_type', t.text)
          .addColumn('target_ids', t.json, (c) => c.notNull())
          .addColumn('outcome', t.text, (c) => c.notNull())
          .addColumn('detail', t.text)
          .addColumn('source', t.text),
      ).execute();
      await db.schema.createIndex('audit_events_action').on('audit_events').columns(['action', 'id']).execute();
      await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor', 'id']).execute();
    },
  };
}
