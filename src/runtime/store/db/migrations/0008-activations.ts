import { sql, type CreateTableBuilder, type Migration } from 'kysely';
import type { Engine } from '../sql.ts';
import { columnTypes, type MigrationDb } from './column-types.ts';

/**
 * The activation history of each target: one row per activation, written in the transaction that
 * switches the active model, so the history and the active flag never disagree. `previous_model_id`
 * is what was active before (no foreign key: a history line outlives a deleted predecessor); the
 * activated model's deletion takes its lines along, as it can no longer be activated again.
 */
export function activations(engine: Engine): Migration {
  const t = columnTypes(engine);
  // biome-ignore lint/suspicious/noExplicitAny: a builder of whichever table the migration makes
  const strict = <B extends CreateTableBuilder<any, any>>(b: B): B => (engine === 'sqlite' ? (b.modifyEnd(sql`strict`) as B) : b);
  return {
    async up(db: MigrationDb) {
      await strict(
        db.schema
          .createTable('model_activations')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('target_id', t.id, (c) => c.notNull().references('targets.id').onDelete('cascade'))
          .addColumn('model_id', t.id, (c) => c.notNull().references('models.id').onDelete('cascade'))
          .addColumn('previous_model_id', t.id)
          .addColumn('actor', t.text)
          .addColumn('at', t.time, (c) => c.notNull()),
      ).execute();
      // Newest first per target (ids sort by time); the cascade looks rows up by model.
      await db.schema.createIndex('model_activations_target').on('model_activations').columns(['target_id', 'id']).execute();
      await db.schema.createIndex('model_activations_model').on('model_activations').column('model_id').execute();
    },
  };
}
