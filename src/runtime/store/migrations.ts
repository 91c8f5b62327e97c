import type Database from 'better-sqlite3';

/**
 * Versioned schema changes, applied in order at start. Never edit a released entry: add a new
 * one. Each runs inside the same IMMEDIATE transaction as the version bump, so a crash or a
 * second process starting at the same time cannot leave a half-migrated database.
 */
export const migrations: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;

      CREATE TABLE targets (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        is_default INTEGER NOT NULL DEFAULT 0,
        preprocessing TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX targets_one_default ON targets (is_default) WHERE is_default = 1;

      CREATE TABLE algorithms (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        version TEXT,
        type TEXT,
        attribute TEXT,
        description TEXT,
        created_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE algorithm_parameters (
        id TEXT PRIMARY KEY,
        algorithm_id TEXT NOT NULL REFERENCES algorithms (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        display_name TEXT,
        data_type TEXT NOT NULL,
        value TEXT,
        range_lower TEXT,
        range_upper TEXT,
        model_parameter INTEGER NOT NULL DEFAULT 0,
        position INTEGER NOT NULL DEFAULT 0,
        UNIQUE (algorithm_id, name)
      ) STRICT;

      CREATE TABLE models (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        status TEXT NOT NULL,
        status_text TEXT,
        progress REAL NOT NULL DEFAULT 0,
        stage TEXT,
        active INTEGER NOT NULL DEFAULT 0,
        algorithm_id TEXT NOT NULL REFERENCES algorithms (id),
        target_id TEXT NOT NULL REFERENCES targets (id),
        ok_image_count INTEGER NOT NULL DEFAULT 0,
        ng_image_count INTEGER NOT NULL DEFAULT 0,
        training_time REAL,
        stats TEXT,
        predict_parameters TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',
        train_item_ids TEXT NOT NULL DEFAULT '[]',
        onnx_blob TEXT,
        input_spec TEXT,
        image_blob TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX models_target ON models (target_id, id);
      CREATE INDEX models_algorithm ON models (algorithm_id, id);
      CREATE INDEX models_status ON models (status, id);
      CREATE UNIQUE INDEX models_one_active ON models (target_id) WHERE active = 1;
      CREATE INDEX models_onnx_blob ON models (onnx_blob) WHERE onnx_blob IS NOT NULL;
      CREATE INDEX models_image_blob ON models (image_blob) WHERE image_blob IS NOT NULL;

      CREATE TABLE items (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        target_id TEXT NOT NULL REFERENCES targets (id),
        type TEXT NOT NULL,
        status TEXT,
        active INTEGER NOT NULL DEFAULT 1,
        good INTEGER,
        user_label TEXT,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX items_type ON items (type, id);
      CREATE INDEX items_target_type ON items (target_id, type, id);

      CREATE TABLE assessments (
        id TEXT PRIMARY KEY,
        item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
        model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
        result TEXT NOT NULL,
        label TEXT,
        score REAL NOT NULL,
        threshold REAL NOT NULL,
        detected_objects INTEGER NOT NULL,
        detection_accuracy REAL,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX assessments_item ON assessments (item_id, id);
      CREATE INDEX assessments_model ON assessments (model_id, item_id);

      -- One owner column per kind (exactly one set) so deletes cascade through real foreign keys.
      CREATE TABLE images (
        id TEXT PRIMARY KEY,
        item_id TEXT REFERENCES items (id) ON DELETE CASCADE,
        assessment_id TEXT REFERENCES assessments (id) ON DELETE CASCADE,
        model_id TEXT REFERENCES models (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        blob TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        file_size INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        position INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        CHECK ((item_id IS NOT NULL) + (assessment_id IS NOT NULL) + (model_id IS NOT NULL) = 1)
      ) STRICT;
      CREATE INDEX images_item ON images (item_id, position) WHERE item_id IS NOT NULL;
      CREATE INDEX images_assessment ON images (assessment_id, position) WHERE assessment_id IS NOT NULL;
      CREATE INDEX images_model ON images (model_id, position) WHERE model_id IS NOT NULL;
      CREATE INDEX images_blob ON images (blob);

      CREATE TABLE annotations (
        id TEXT PRIMARY KEY,
        item_id TEXT REFERENCES items (id) ON DELETE CASCADE,
        assessment_id TEXT REFERENCES assessments (id) ON DELETE CASCADE,
        x_min REAL,
        x_max REAL,
        y_min REAL,
        y_max REAL,
        label INTEGER,
        notes TEXT,
        score REAL,
        created_at TEXT NOT NULL,
        CHECK ((item_id IS NOT NULL) + (assessment_id IS NOT NULL) = 1)
      ) STRICT;
      CREATE INDEX annotations_item ON annotations (item_id, id) WHERE item_id IS NOT NULL;
      CREATE INDEX annotations_assessment ON annotations (assessment_id, id) WHERE assessment_id IS NOT NULL;

      CREATE TABLE clients (
        client_id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        scope TEXT NOT NULL,
        name TEXT,
        created_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE license (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        document TEXT NOT NULL,
        expires_at TEXT,
        installed_at TEXT NOT NULL
      ) STRICT;
    `,
  },
];

/** Brings the database to the newest version; returns the versions applied. */
export function migrate(db: Database.Database): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT');
  const run = db.transaction(() => {
    const row = db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
    const current = row.v ?? 0;
    const latest = migrations.at(-1)?.version ?? 0;
    if (current > latest) {
      throw new Error(`database schema version ${current} is newer than this build knows (${latest})`);
    }
    const applied: number[] = [];
    for (const m of migrations) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(m.version);
      applied.push(m.version);
    }
    return applied;
  });
  return run.immediate();
}
