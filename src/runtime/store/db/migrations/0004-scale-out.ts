import { sql, type CreateTableBuilder, type Migration } from 'kysely';
import type { Engine } from '../sql.ts';
import { columnTypes, type MigrationDb } from './column-types.ts';

/**
 * What instances that share one database (and one object store) need:
 * - `blob_claims`: holds of in-flight requests on blobs and deletions in progress, one row per
 *   blob key, so that a blob another instance just stored is never deleted (store/domains/
 *   blob-claims.ts has the protocol). Times are epoch milliseconds.
 * - `prediction_jobs`: background predictions as records (status, counts, errors), so they
 *   survive restarts and any instance answers `predictionJob(id)`.
 * - `assessments.job_id`: the prediction job that made an assessment; unique per item, so a job
 *   retried after its worker died judges each picture exactly once.
 */
export function scaleOut(engine: Engine): Migration {
  const t = columnTypes(engine);
  // biome-ignore lint/suspicious/noExplicitAny: a builder of whichever table the migration makes
  const strict = <B extends CreateTableBuilder<any, any>>(b: B): B => (engine === 'sqlite' ? (b.modifyEnd(sql`strict`) as B) : b);
  return {
    async up(db: MigrationDb) {
      await strict(
        db.schema
          .createTable('blob_claims')
          .addColumn('key', t.text, (c) => c.primaryKey())
          .addColumn('holds', t.int, (c) => c.notNull().defaultTo(0))
          .addColumn('held_until', t.real, (c) => c.notNull().defaultTo(0))
          .addColumn('sweep', t.text)
          .addColumn('sweep_at', t.real),
      ).execute();

      await strict(
        db.schema
          .createTable('prediction_jobs')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('model_id', t.id, (c) => c.notNull().references('models.id').onDelete('cascade'))
          .addColumn('model_version', t.text, (c) => c.notNull())
          .addColumn('status', t.text, (c) => c.notNull())
          .addColumn('item_ids', t.json, (c) => c.notNull())
          .addColumn('total', t.int, (c) => c.notNull())
          .addColumn('errors', t.json, (c) => c.notNull().defaultTo('[]'))
          .addColumn('error_count', t.int, (c) => c.notNull().defaultTo(0))
          .addColumn('attempts', t.int, (c) => c.notNull().defaultTo(0))
          .addColumn('status_text', t.text)
          .addColumn('created_at', t.time, (c) => c.notNull())
          .addColumn('updated_at', t.time, (c) => c.notNull())
          .addColumn('started_at', t.time)
          .addColumn('finished_at', t.time),
      ).execute();
      await db.schema.createIndex('prediction_jobs_model').on('prediction_jobs').column('model_id').execute();

      // Kept when its job row goes (a deleted model takes both along anyway).
      await db.schema.alterTable('assessments').addColumn('job_id', t.id).execute();
      await db.schema.createIndex('assessments_job_item').on('assessments').columns(['job_id', 'item_id']).unique().execute();
    },
  };
}
