import { sql, type CreateTableBuilder, type Migration } from 'kysely';
import type { Engine } from '../sql.ts';
import { columnTypes, type MigrationDb } from './column-types.ts';

/**
 * Regions of interest (include/exclude polygons with a sensitivity each) of a target or a model,
 * one row per owner holding the whole list as JSON: they are always read and replaced together.
 * A model without a row judges with its target's regions; a model row with an empty list judges
 * the whole picture whatever its target has. Either owner's deletion takes its row along.
 */
export function regions(engine: Engine): Migration {
  const t = columnTypes(engine);
  // biome-ignore lint/suspicious/noExplicitAny: a builder of whichever table the migration makes
  const strict = <B extends CreateTableBuilder<any, any>>(b: B): B => (engine === 'sqlite' ? (b.modifyEnd(sql`strict`) as B) : b);
  return {
    async up(db: MigrationDb) {
      await strict(
        db.schema
          .createTable('region_sets')
          .addColumn('owner_id', t.id, (c) => c.primaryKey())
          .addColumn('target_id', t.id, (c) => c.references('targets.id').onDelete('cascade'))
          .addColumn('model_id', t.id, (c) => c.references('models.id').onDelete('cascade'))
          .addColumn('regions', t.json, (c) => c.notNull())
          .addColumn('updated_at', t.time, (c) => c.notNull()),
      ).execute();
      // The cascades look rows up by owner column.
      await db.schema.createIndex('region_sets_target').on('region_sets').column('target_id').execute();
      await db.schema.createIndex('region_sets_model').on('region_sets').column('model_id').execute();
    },
  };
}
