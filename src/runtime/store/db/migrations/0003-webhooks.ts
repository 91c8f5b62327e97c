import { sql, type Migration, type SqlBool } from 'kysely';
import type { Engine } from '../sql.ts';
import { columnTypes, type MigrationDb } from './column-types.ts';

/**
 * Webhooks and their deliveries (the outbox of results pushed to the line). A delivery is stored
 * before anything is sent and stays until it succeeded or its retries ran out, so pending ones
 * are picked up again after a restart. `event_key` makes recording an event idempotent: every
 * instance that sees the event (pub/sub fans out) inserts the same row once.
 */
export function webhooks(engine: Engine): Migration {
  const t = columnTypes(engine);
  // biome-ignore lint/suspicious/noExplicitAny: a builder of whichever table the migration makes
  const strict = <B extends { modifyEnd(s: any): B }>(b: B): B => (engine === 'sqlite' ? b.modifyEnd(sql`strict`) : b);
  return {
    async up(db: MigrationDb) {
      await strict(
        db.schema
          .createTable('webhooks')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('url', t.text, (c) => c.notNull())
          .addColumn('events', t.json, (c) => c.notNull())
          .addColumn('target_id', t.id, (c) => c.references('targets.id').onDelete('cascade'))
          .addColumn('model_id', t.id, (c) => c.references('models.id').onDelete('cascade'))
          .addColumn('secret', t.text, (c) => c.notNull())
          .addColumn('description', t.text)
          .addColumn('active', t.flag, (c) => c.notNull().defaultTo(true))
          .addColumn('created_at', t.time, (c) => c.notNull())
          .addColumn('updated_at', t.time, (c) => c.notNull()),
      ).execute();

      await strict(
        db.schema
          .createTable('webhook_deliveries')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('webhook_id', t.id, (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
          .addColumn('event', t.text, (c) => c.notNull())
          .addColumn('event_key', t.text, (c) => c.notNull())
          .addColumn('payload', t.text, (c) => c.notNull())
          .addColumn('status', t.text, (c) => c.notNull())
          .addColumn('attempts', t.int, (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', t.time, (c) => c.notNull())
          .addColumn('last_attempt_at', t.time)
          .addColumn('response_code', t.int)
          .addColumn('latency_ms', t.int)
          .addColumn('error', t.text)
          .addColumn('created_at', t.time, (c) => c.notNull())
          .addUniqueConstraint('webhook_deliveries_event', ['webhook_id', 'event_key']),
      ).execute();
      await db.schema.createIndex('webhook_deliveries_webhook').on('webhook_deliveries').columns(['webhook_id', 'id']).execute();
      await db.schema
        .createIndex('webhook_deliveries_pending')
        .on('webhook_deliveries')
        .columns(['webhook_id', 'id'])
        .where(sql<SqlBool>`status = 'PENDING'`)
        .execute();
    },
  };
}
