import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Kysely } from 'kysely';
import { migrateToLatest } from '../src/runtime/store/db/migrate.ts';
import { sqliteDialect } from '../src/runtime/store/db/sqlite.ts';
import { createStore, type LocalStore } from '../src/runtime/store/index.ts';

// A database made by the store before Kysely (schema_version 1, test/fixtures/legacy-schema-v1.sql)
// is upgraded in place by the first start of this one, and every row reads back as it was.

const LEGACY_SQL = fs.readFileSync(new URL('./fixtures/legacy-schema-v1.sql', import.meta.url), 'utf8');
const T0 = '2025-03-01T10:00:00.000Z';
const T1 = '2025-03-01T10:05:00.000Z';
// UUIDv7-shaped ids in creation order, as the old store made them.
const id = (n: number) => `0195506a-0000-7000-8000-${String(n).padStart(12, '0')}`;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const dirs: string[] = [];
const stores: LocalStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-upgrade-'));
  dirs.push(d);
  return d;
};
const open = async (dataDir: string) => {
  const s = await createStore({ dataDir });
  stores.push(s);
  return s;
};

const blobs = { photo: sha('photo'), overlay: sha('overlay'), onnx: sha('onnx'), picture: sha('picture') };

/** The old store's database with a row in every table, and the blob files its rows name. */
function legacyDatabase(dataDir: string): void {
  for (const [name, key] of Object.entries(blobs)) {
    fs.mkdirSync(path.join(dataDir, 'blobs', key.slice(0, 2)), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'blobs', key.slice(0, 2), key.slice(2)), name);
  }
  const db = new Database(path.join(dataDir, 'spectro.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.exec(LEGACY_SQL);
  const run = (sql: string, ...params: unknown[]) => db.prepare(sql).run(...params);
  run(`INSERT INTO settings VALUES ('jwt.signingKey', 'k1'), ('installation.id', 'inst-1')`);
  run(`INSERT INTO targets VALUES (?, 'line 1', 1, '[{"name":"crop","active":true,"config":"{\\"x\\":1}"}]', ?)`, id(1), T0);
  run(`INSERT INTO targets VALUES (?, 'line 2', 0, '[]', ?)`, id(2), T1);
  run(`INSERT INTO algorithms VALUES ('patchcore', 'PatchCore', '1', 'anomaly', 'unsupervised', 'memory bank', ?)`, T0);
  run(`INSERT INTO algorithm_parameters VALUES (?, 'patchcore', 'k', 'K', 'int', '3', '1', '9', 0, 0)`, id(3));
  run(`INSERT INTO algorithm_parameters VALUES (?, 'patchcore', 'threshold', NULL, 'float', '0.5', '0', '1', 1, 1)`, id(4));
  run(
    `INSERT INTO models VALUES (?, 'm1', '1', 'READY', NULL, 1, 'done', 1, 'patchcore', ?, 3, 1, 12.5,
       '{"accuracy":0.9,"precision":{"computed":1,"projected":null},"recall":{"computed":0.5,"projected":0.6},"method":"split"}',
       '{"threshold":0.42,"ignoreOuter":2,"minDetectedArea":5}', '{"k":"3"}', ?, ?, '{"width":64,"height":64,"color":"gray","resize":"fill","anomalyRange":[0,0.5]}', ?, ?, ?)`,
    id(10),
    id(1),
    JSON.stringify([id(20)]),
    blobs.onnx,
    blobs.picture,
    T0,
    T1,
  );
  run(
    `INSERT INTO models (id, name, version, status, status_text, algorithm_id, target_id, predict_parameters, created_at, updated_at)
       VALUES (?, 'm2', '1', 'FAILED', 'training failed: x', 'patchcore', ?, '{"threshold":0.5,"ignoreOuter":0,"minDetectedArea":0}', ?, ?)`,
    id(11),
    id(2),
    T1,
    T1,
  );
  run(`INSERT INTO items VALUES (?, 'ok.png', ?, 'TRAINING', NULL, 1, 1, NULL, ?)`, id(20), id(1), T0);
  run(`INSERT INTO items VALUES (?, 'scratch.png', ?, 'PREDICTION', 'done', 1, 0, 'scratch', ?)`, id(21), id(1), T1);
  run(`INSERT INTO items VALUES (?, 'unlabelled.png', ?, 'PREDICTION', NULL, 0, NULL, NULL, ?)`, id(22), id(2), T1);
  run(`INSERT INTO assessments VALUES (?, ?, ?, 'BAD', 'scratch', 0.91, 0.42, 1, 88.5, ?)`, id(30), id(21), id(10), T1);
  run(`INSERT INTO images VALUES (?, ?, NULL, NULL, 'ok.png', ?, 64, 64, 1234, 'image/png', 0, ?)`, id(40), id(20), blobs.photo, T0);
  run(`INSERT INTO images VALUES (?, NULL, ?, NULL, 'heatmap.png', ?, 64, 64, 0, 'image/png', 0, ?)`, id(41), id(30), blobs.overlay, T1);
  run(`INSERT INTO images VALUES (?, NULL, NULL, ?, 'model.png', ?, 32, 32, 99, 'image/png', 0, ?)`, id(42), id(10), blobs.picture, T1);
  run(`INSERT INTO annotations VALUES (?, ?, NULL, 1, 5, 2, 6, 0, 'user box', NULL, ?)`, id(50), id(21), T1);
  run(`INSERT INTO annotations VALUES (?, NULL, ?, 10.5, 20.25, 3, 4, 1, NULL, 0.93, ?)`, id(51), id(30), T1);
  run(`INSERT INTO clients VALUES ('spc_1', 'hash', 'all', 'bootstrap', ?)`, T0);
  run(`INSERT INTO license VALUES (1, '{"doc":1}', '2030-01-01T00:00:00.000Z', ?)`, T0);
  db.close();
}

describe('upgrading a database of the previous store', () => {
  it('keeps every row and blob, gives integer keys in creation order, and migrates only once', async () => {
    const dir = tempDir();
    legacyDatabase(dir);
    const store = await open(dir);

    expect(await store.listTargets()).toEqual([
      { id: id(1), key: 1, name: 'line 1', isDefault: true, preprocessing: [{ name: 'crop', active: true, config: '{"x":1}' }], createdAt: T0 },
      { id: id(2), key: 2, name: 'line 2', isDefault: false, preprocessing: [], createdAt: T1 },
    ]);
    expect(await store.listAlgorithms()).toEqual([
      { id: 'patchcore', name: 'PatchCore', version: '1', type: 'anomaly', attribute: 'unsupervised', description: 'memory bank', createdAt: T0 },
    ]);
    expect(await store.parametersByAlgorithmIds(['patchcore'])).toEqual([
      {
        id: id(3),
        key: 1,
        algorithmId: 'patchcore',
        name: 'k',
        displayName: 'K',
        dataType: 'int',
        value: '3',
        rangeLower: '1',
        rangeUpper: '9',
        modelParameter: false,
      },
      {
        id: id(4),
        key: 2,
        algorithmId: 'patchcore',
        name: 'threshold',
        displayName: null,
        dataType: 'float',
        value: '0.5',
        rangeLower: '0',
        rangeUpper: '1',
        modelParameter: true,
      },
    ]);
    const [m1, m2] = await store.modelsByIds([id(10), id(11)]).then((ms) => ms.sort((a, b) => a.id.localeCompare(b.id)));
    expect(m1).toEqual({
      id: id(10),
      name: 'm1',
      version: '1',
      status: 'READY',
      statusText: null,
      progress: 1,
      stage: 'done',
      active: true,
      algorithmId: 'patchcore',
      targetId: id(1),
      okImageCount: 3,
      ngImageCount: 1,
      trainingTime: 12.5,
      stats: { accuracy: 0.9, precision: { computed: 1, projected: null }, recall: { computed: 0.5, projected: 0.6 }, method: 'split' },
      predictParameters: { threshold: 0.42, ignoreOuter: 2, minDetectedArea: 5 },
      params: { k: '3' },
      trainItemIds: [id(20)],
      onnxBlob: blobs.onnx,
      inputSpec: { width: 64, height: 64, color: 'gray', resize: 'fill', anomalyRange: [0, 0.5] },
      imageBlob: blobs.picture,
      createdAt: T0,
      updatedAt: T1,
    });
    expect(m2).toMatchObject({ status: 'FAILED', statusText: 'training failed: x', active: false, stats: null, inputSpec: null, params: {}, trainItemIds: [] });
    expect((await store.activeModel(id(1)))?.id).toBe(id(10));

    const items = await store.itemsByIds([id(20), id(21), id(22)]);
    expect(items.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: id(20), name: 'ok.png', targetId: id(1), type: 'TRAINING', status: null, active: true, good: true, userLabel: null, createdAt: T0 },
      { id: id(21), name: 'scratch.png', targetId: id(1), type: 'PREDICTION', status: 'done', active: true, good: false, userLabel: 'scratch', createdAt: T1 },
      { id: id(22), name: 'unlabelled.png', targetId: id(2), type: 'PREDICTION', status: null, active: false, good: null, userLabel: null, createdAt: T1 },
    ]);
    expect((await store.listItems({ type: 'TRAINING', modelId: id(10) }, {})).nodes.map((i) => i.id)).toEqual([id(20)]);
    expect((await store.listItems({ type: 'PREDICTION', modelId: id(10) }, {})).nodes.map((i) => i.id)).toEqual([id(21)]);

    expect(await store.assessmentsByItemIds([id(21)])).toEqual([
      {
        id: id(30),
        itemId: id(21),
        modelId: id(10),
        result: 'BAD',
        label: 'scratch',
        score: 0.91,
        threshold: 0.42,
        detectedObjects: 1,
        detectionAccuracy: 88.5,
        jobId: null,
        createdAt: T1,
      },
    ]);
    expect(await store.imagesByOwners('item', [id(20)])).toEqual([
      {
        id: id(40),
        ownerKind: 'item',
        ownerId: id(20),
        name: 'ok.png',
        blob: blobs.photo,
        width: 64,
        height: 64,
        fileSize: 1234,
        contentType: 'image/png',
        position: 0,
        createdAt: T0,
      },
    ]);
    expect((await store.imagesByOwners('assessment', [id(30)])).map((i) => [i.id, i.blob])).toEqual([[id(41), blobs.overlay]]);
    expect((await store.imagesByOwners('model', [id(10)])).map((i) => [i.id, i.blob])).toEqual([[id(42), blobs.picture]]);
    expect(await store.annotationsByOwners('user', [id(21)])).toEqual([
      { id: id(50), key: 1, ownerKind: 'user', ownerId: id(21), xMin: 1, xMax: 5, yMin: 2, yMax: 6, label: 0, notes: 'user box', score: null, createdAt: T1 },
    ]);
    expect(await store.annotationsByOwners('assessment', [id(30)])).toEqual([
      {
        id: id(51),
        key: 2,
        ownerKind: 'assessment',
        ownerId: id(30),
        xMin: 10.5,
        xMax: 20.25,
        yMin: 3,
        yMax: 4,
        label: 1,
        notes: null,
        score: 0.93,
        createdAt: T1,
      },
    ]);
    expect(await store.clientById('spc_1')).toEqual({
      clientId: 'spc_1',
      secretHash: 'hash',
      scope: 'all',
      name: 'bootstrap',
      createdAt: T0,
      revokedAt: null,
      rotatedAt: null,
    });
    expect(await store.license()).toEqual({ document: '{"doc":1}', expiresAt: '2030-01-01T00:00:00.000Z', installedAt: T0 });
    expect(await store.getSetting('jwt.signingKey')).toBe('k1');
    expect(await store.initSetting('installation.id', 'other')).toBe('inst-1');
    for (const key of Object.values(blobs)) expect(await store.blobs.has(key)).toBe(true);

    // New rows take keys after the old ones; the old bookkeeping is gone, Kysely's has both steps.
    const t3 = await store.createTarget('line 3', []);
    expect(t3.key).toBe(3);
    const db = new Database(path.join(dir, 'spectro.db'), { readonly: true });
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'schema_version'`).all()).toEqual([]);
    expect(db.prepare('SELECT name FROM kysely_migration ORDER BY name').all()).toEqual([
      { name: '0001_initial' },
      { name: '0002_integer_keys' },
      { name: '0003_webhooks' },
      { name: '0004_scale_out' },
      { name: '0005_security' },
      { name: '0006_users' },
      { name: '0007_regions' },
      { name: '0008_activations' },
      { name: '0009_item_pages' },
    ]);
    db.close();

    await store.close();
    stores.pop();
    const again = await open(dir);
    expect((await again.listTargets()).map((t) => [t.name, t.key])).toEqual([
      ['line 1', 1],
      ['line 2', 2],
      ['line 3', 3],
    ]);
  });

  it('ends with the schema a new database gets', async () => {
    const upgraded = tempDir();
    legacyDatabase(upgraded);
    await (await open(upgraded)).close();
    const fresh = tempDir();
    await (await open(fresh)).close();
    stores.splice(0);

    /** Tables with their columns (name, type, not null, primary key) and indexes (name, unique, partial, columns). */
    const shape = (dataDir: string) => {
      const db = new Database(path.join(dataDir, 'spectro.db'), { readonly: true });
      try {
        const tables = db.prepare(`SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as {
          name: string;
          strict: number;
        }[];
        return tables.map(({ name, strict }) => ({
          name,
          strict,
          columns: db.prepare(`SELECT name, upper(type) AS type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid`).all(name) as object[],
          foreignKeys: db.prepare(`SELECT "from", "table", "to", on_delete FROM pragma_foreign_key_list(?) ORDER BY "from"`).all(name),
          indexes: (
            db.prepare(`SELECT name, "unique", partial FROM pragma_index_list(?) WHERE origin = 'c' ORDER BY name`).all(name) as { name: string }[]
          ).map((ix) => ({
            ...ix,
            columns: (db.prepare('SELECT name FROM pragma_index_info(?) ORDER BY seqno').all(ix.name) as { name: string }[]).map((c) => c.name),
          })),
        }));
      } finally {
        db.close();
      }
    };
    const expected = shape(fresh);
    expect(expected.map((t) => t.name)).toContain('annotations');
    expect(shape(upgraded)).toEqual(expected);
  });

  it('takes a migration merged after a later-numbered one (0006_users on a database already at 0007_regions)', async () => {
    const dir = tempDir();
    const early = new Kysely<any>({ dialect: sqliteDialect(dir) });
    expect(await migrateToLatest(early, 'sqlite', (name) => name !== '0006_users')).toContain('0007_regions');
    await early.destroy();
    const store = await open(dir);
    const user = await store.createUser({ name: 'late', role: 'viewer', passwordHash: null });
    expect((await store.userByName('late'))?.id).toBe(user.id);
    const db = new Database(path.join(dir, 'spectro.db'), { readonly: true });
    expect(db.prepare('SELECT name FROM kysely_migration ORDER BY name').all()).toContainEqual({ name: '0006_users' });
    db.close();
  });

  it('refuses a database of a newer build instead of guessing', async () => {
    const dir = tempDir();
    legacyDatabase(dir);
    const db = new Database(path.join(dir, 'spectro.db'));
    db.exec('INSERT INTO schema_version (version) VALUES (2)');
    db.close();
    await expect(open(dir)).rejects.toThrow(/schema_version 2/);
    // Nothing was changed: the old bookkeeping is still there.
    const check = new Database(path.join(dir, 'spectro.db'), { readonly: true });
    expect(check.prepare('SELECT max(version) AS v FROM schema_version').get()).toEqual({ v: 2 });
    check.close();
  });
});
