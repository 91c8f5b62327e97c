import type { Migration } from 'kysely';
import type { MigrationDb } from './column-types.ts';

/**
 * A target's pictures newest first, whatever their type: the dashboard's item list reads the
 * first page of each target this way. `items_target_type` (target, type, id) serves a page of one
 * type; without this index a page of every type read and sorted all of a target's items.
 */
export function itemPages(): Migration {
  return {
    async up(db: MigrationDb) {
      await db.schema.createIndex('items_target').on('items').columns(['target_id', 'id']).execute();
    },
    async down(db: MigrationDb) {
      await db.schema.dropIndex('items_target').execute();
    },
  };
}
