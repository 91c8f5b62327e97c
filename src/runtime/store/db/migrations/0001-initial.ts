import { sql, type CreateTableBuilder, type Migration, type SqlBool } from 'kysely';
import type { Engine } from '../sql.ts';
import { columnTypes, type MigrationDb } from './column-types.ts';

/**
 * The schema as the store had it before Kysely (its `migrations.ts`, schema_version 1).
 *
 * A SQLite database made by that code is adopted as it stands: its tables are this schema, so
 * only the old bookkeeping table goes; every later migration then runs on it as on a new one.
 */
export function initial(engine: Engine): Migration {
  const t = columnTypes(engine);
  // biome-ignore lint/suspicious/noExplicitAny: a builder of whichever table the migration makes
  const strict = <B extends CreateTableBuilder<any, any>>(b: B): B => (engine === 'sqlite' ? (b.modifyEnd(sql`strict`) as B) : b);
  const oneOf = (...columns: string[]) => sql.raw(`(${columns.map((c) => `case when ${c} is null then 0 else 1 end`).join(' + ')}) = 1`);

  return {
    async up(db: MigrationDb) {
      if (engine === 'sqlite' && (await adoptLegacy(db))) return;

      await strict(
        db.schema
          .createTable('settings')
          .addColumn('key', t.text, (c) => c.primaryKey())
          .addColumn('value', t.text, (c) => c.notNull()),
      ).execute();

      await strict(
        db.schema
          .createTable('targets')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('name', t.text, (c) => c.notNull().unique())
          .addColumn('is_default', t.flag, (c) => c.notNull().defaultTo(false))
          .addColumn('preprocessing', t.json, (c) => c.notNull().defaultTo('[]'))
          .addColumn('created_at', t.time, (c) => c.notNull()),
      ).execute();
      await db.schema
        .createIndex('targets_one_default')
        .on('targets')
        .column('is_default')
        .unique()
        .where(sql<SqlBool>`is_default = ${sql.lit(true)}`)
        .execute();

      await strict(
        db.schema
          .createTable('algorithms')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('name', t.text, (c) => c.notNull())
          .addColumn('version', t.text)
          .addColumn('type', t.text)
          .addColumn('attribute', t.text)
          .addColumn('description', t.text)
          .addColumn('created_at', t.time, (c) => c.notNull()),
      ).execute();

      await strict(
        db.schema
          .createTable('algorithm_parameters')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('algorithm_id', t.id, (c) => c.notNull().references('algorithms.id').onDelete('cascade'))
          .addColumn('name', t.text, (c) => c.notNull())
          .addColumn('display_name', t.text)
          .addColumn('data_type', t.text, (c) => c.notNull())
          .addColumn('value', t.text)
          .addColumn('range_lower', t.text)
          .addColumn('range_upper', t.text)
          .addColumn('model_parameter', t.flag, (c) => c.notNull().defaultTo(false))
          .addColumn('position', t.int, (c) => c.notNull().defaultTo(0))
          .addUniqueConstraint('algorithm_parameters_algorithm_name', ['algorithm_id', 'name']),
      ).execute();

      await strict(
        db.schema
          .createTable('models')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('name', t.text, (c) => c.notNull())
          .addColumn('version', t.text, (c) => c.notNull())
          .addColumn('status', t.text, (c) => c.notNull())
          .addColumn('status_text', t.text)
          .addColumn('progress', t.real, (c) => c.notNull().defaultTo(0))
          .addColumn('stage', t.text)
          .addColumn('active', t.flag, (c) => c.notNull().defaultTo(false))
          .addColumn('algorithm_id', t.id, (c) => c.notNull().references('algorithms.id'))
          .addColumn('target_id', t.id, (c) => c.notNull().references('targets.id'))
          .addColumn('ok_image_count', t.int, (c) => c.notNull().defaultTo(0))
          .addColumn('ng_image_count', t.int, (c) => c.notNull().defaultTo(0))
          .addColumn('training_time', t.real)
          .addColumn('stats', t.json)
          .addColumn('predict_parameters', t.json, (c) => c.notNull())
          .addColumn('params', t.json, (c) => c.notNull().defaultTo('{}'))
          .addColumn('train_item_ids', t.json, (c) => c.notNull().defaultTo('[]'))
          .addColumn('onnx_blob', t.text)
          .addColumn('input_spec', t.json)
          .addColumn('image_blob', t.text)
          .addColumn('created_at', t.time, (c) => c.notNull())
          .addColumn('updated_at', t.time, (c) => c.notNull()),
      ).execute();
      await db.schema.createIndex('models_target').on('models').columns(['target_id', 'id']).execute();
      await db.schema.createIndex('models_algorithm').on('models').columns(['algorithm_id', 'id']).execute();
      await db.schema.createIndex('models_status').on('models').columns(['status', 'id']).execute();
      await db.schema
        .createIndex('models_one_active')
        .on('models')
        .column('target_id')
        .unique()
        .where(sql<SqlBool>`active = ${sql.lit(true)}`)
        .execute();
      await db.schema.createIndex('models_onnx_blob').on('models').column('onnx_blob').where(sql<SqlBool>`onnx_blob is not null`).execute();
      await db.schema.createIndex('models_image_blob').on('models').column('image_blob').where(sql<SqlBool>`image_blob is not null`).execute();

      await strict(
        db.schema
          .createTable('items')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('name', t.text, (c) => c.notNull())
          .addColumn('target_id', t.id, (c) => c.notNull().references('targets.id'))
          .addColumn('type', t.text, (c) => c.notNull())
          .addColumn('status', t.text)
          .addColumn('active', t.flag, (c) => c.notNull().defaultTo(true))
          .addColumn('good', t.flag)
          .addColumn('user_label', t.text)
          .addColumn('created_at', t.time, (c) => c.notNull()),
      ).execute();
      await db.schema.createIndex('items_type').on('items').columns(['type', 'id']).execute();
      await db.schema.createIndex('items_target_type').on('items').columns(['target_id', 'type', 'id']).execute();

      await strict(
        db.schema
          .createTable('assessments')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('item_id', t.id, (c) => c.notNull().references('items.id').onDelete('cascade'))
          .addColumn('model_id', t.id, (c) => c.notNull().references('models.id').onDelete('cascade'))
          .addColumn('result', t.text, (c) => c.notNull())
          .addColumn('label', t.text)
          .addColumn('score', t.real, (c) => c.notNull())
          .addColumn('threshold', t.real, (c) => c.notNull())
          .addColumn('detected_objects', t.int, (c) => c.notNull())
          .addColumn('detection_accuracy', t.real)
          .addColumn('created_at', t.time, (c) => c.notNull()),
      ).execute();
      await db.schema.createIndex('assessments_item').on('assessments').columns(['item_id', 'id']).execute();
      await db.schema.createIndex('assessments_model').on('assessments').columns(['model_id', 'item_id']).execute();

      await strict(
        db.schema
          .createTable('images')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('item_id', t.id, (c) => c.references('items.id').onDelete('cascade'))
          .addColumn('assessment_id', t.id, (c) => c.references('assessments.id').onDelete('cascade'))
          .addColumn('model_id', t.id, (c) => c.references('models.id').onDelete('cascade'))
          .addColumn('name', t.text, (c) => c.notNull())
          .addColumn('blob', t.text, (c) => c.notNull())
          .addColumn('width', t.int, (c) => c.notNull())
          .addColumn('height', t.int, (c) => c.notNull())
          .addColumn('file_size', t.int, (c) => c.notNull())
          .addColumn('content_type', t.text, (c) => c.notNull())
          .addColumn('position', t.int, (c) => c.notNull())
          .addColumn('created_at', t.time, (c) => c.notNull())
          .addCheckConstraint('images_one_owner', oneOf('item_id', 'assessment_id', 'model_id')),
      ).execute();
      await db.schema.createIndex('images_item').on('images').columns(['item_id', 'position']).where(sql<SqlBool>`item_id is not null`).execute();
      await db.schema
        .createIndex('images_assessment')
        .on('images')
        .columns(['assessment_id', 'position'])
        .where(sql<SqlBool>`assessment_id is not null`)
        .execute();
      await db.schema.createIndex('images_model').on('images').columns(['model_id', 'position']).where(sql<SqlBool>`model_id is not null`).execute();
      await db.schema.createIndex('images_blob').on('images').column('blob').execute();

      await strict(
        db.schema
          .createTable('annotations')
          .addColumn('id', t.id, (c) => c.primaryKey())
          .addColumn('item_id', t.id, (c) => c.references('items.id').onDelete('cascade'))
          .addColumn('assessment_id', t.id, (c) => c.references('assessments.id').onDelete('cascade'))
          .addColumn('x_min', t.real)
          .addColumn('x_max', t.real)
          .addColumn('y_min', t.real)
          .addColumn('y_max', t.real)
          .addColumn('label', t.int)
          .addColumn('notes', t.text)
          .addColumn('score', t.real)
          .addColumn('created_at', t.time, (c) => c.notNull())
          .addCheckConstraint('annotations_one_owner', oneOf('item_id', 'assessment_id')),
      ).execute();
      await db.schema.createIndex('annotations_item').on('annotations').columns(['item_id', 'id']).where(sql<SqlBool>`item_id is not null`).execute();
      await db.schema
        .createIndex('annotations_assessment')
        .on('annotations')
        .columns(['assessment_id', 'id'])
        .where(sql<SqlBool>`assessment_id is not null`)
        .execute();

      await strict(
        db.schema
          .createTable('clients')
          .addColumn('client_id', t.text, (c) => c.primaryKey())
          .addColumn('secret_hash', t.text, (c) => c.notNull())
          .addColumn('scope', t.text, (c) => c.notNull())
          .addColumn('name', t.text)
          .addColumn('created_at', t.time, (c) => c.notNull()),
      ).execute();

      await strict(
        db.schema
          .createTable('license')
          .addColumn('id', t.int, (c) => c.primaryKey().check(sql`id = 1`))
          .addColumn('document', t.text, (c) => c.notNull())
          .addColumn('expires_at', t.time)
          .addColumn('installed_at', t.time, (c) => c.notNull()),
      ).execute();
    },
  };
}

/**
 * True when this is a database of the pre-Kysely store (it kept its version in `schema_version`),
 * whose tables are the ones above; the table goes, the rows stay. Version 0 (the table, but no
 * migration committed) holds nothing to keep; a version above 1 was made by a build this one does
 * not know.
 */
async function adoptLegacy(db: MigrationDb): Promise<boolean> {
  const { rows } = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name = 'schema_version'`.execute(db);
  if (rows.length === 0) return false;
  const { rows: versions } = await sql<{ v: number | null }>`select max(version) as v from schema_version`.execute(db);
  const version = versions[0]?.v ?? 0;
  if (version > 1) throw new Error(`the database has schema_version ${version}; this build can upgrade version 1 only`);
  await sql`drop table schema_version`.execute(db);
  return version === 1;
}
