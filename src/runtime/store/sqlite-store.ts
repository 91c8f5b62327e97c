import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { AppError, ErrorCode, badInput, notFound } from '../../errors.ts';
import { createBlobStore, type FileBlobStore } from './blob-store.ts';
import { decodeCursor, encodeCursor, newId } from './ids.ts';
import { migrate } from './migrations.ts';
import {
  bit,
  toAlgorithm,
  toAnnotation,
  toAssessment,
  toClient,
  toImage,
  toItem,
  toModel,
  toParameter,
  toTarget,
} from './rows.ts';
import type { ModelPatch, NewAnnotation, NewImage, PageArgs, Store } from './store.ts';
import type { AnnotationRecord, ImageOwner, Page } from './types.ts';

type Row = Record<string, unknown>;

export const PAGE_DEFAULT = 20;
export const PAGE_MAX = 100;
/** Unreferenced blobs younger than this survive the start-up sweep (downloads without a row). */
const SWEEP_MIN_AGE_MS = 60 * 60_000;

export interface SqliteStore extends Store {
  readonly blobs: FileBlobStore;
  /** Removes unreferenced blob files older than `olderThanMs`; returns how many. */
  sweepBlobs(olderThanMs?: number): Promise<number>;
}

const ids = (list: readonly string[]) => JSON.stringify([...new Set(list)]);
const IN = 'IN (SELECT value FROM json_each(?))';

const imageOwnerColumn: Record<ImageOwner, string> = { item: 'item_id', assessment: 'assessment_id', model: 'model_id' };

/**
 * The embedded store: SQLite (WAL, foreign keys, versioned migrations) plus content-addressed
 * files under `<dataDir>/blobs`. Lists are keyset-paginated newest first (ids are UUIDv7, so
 * `ORDER BY id DESC` is creation order, newest first).
 */
export async function createSqliteStore(opts: {
  dataDir: string;
  log?: Logger;
  now?: () => number;
}): Promise<SqliteStore> {
  const now = opts.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  fs.mkdirSync(opts.dataDir, { recursive: true });

  const db = new Database(path.join(opts.dataDir, 'spectro.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const applied = migrate(db);
  if (applied.length) opts.log?.info({ applied }, 'database migrated');

  const stats = { reads: 0, writes: 0 };
  const cache = new Map<string, Database.Statement>();
  const st = (sql: string) => {
    let s = cache.get(sql);
    if (!s) cache.set(sql, (s = db.prepare(sql)));
    return s;
  };
  const all = (sql: string, ...p: unknown[]) => {
    stats.reads++;
    return st(sql).all(...p) as Row[];
  };
  const get = (sql: string, ...p: unknown[]) => {
    stats.reads++;
    return st(sql).get(...p) as Row | undefined;
  };
  const run = (sql: string, ...p: unknown[]) => {
    stats.writes++;
    return st(sql).run(...p);
  };
  /** A write that hands back the changed row (UPDATE … RETURNING *). */
  const write = (sql: string, ...p: unknown[]) => {
    stats.writes++;
    return st(sql).get(...p) as Row | undefined;
  };
  const tx = <T>(fn: () => T): T => db.transaction(fn).immediate();

  const referenced = (keys: readonly string[]) => {
    const rows = all(
      `WITH k AS (SELECT value FROM json_each(?))
       SELECT blob AS k FROM images WHERE blob IN k
       UNION SELECT onnx_blob FROM models WHERE onnx_blob IN k
       UNION SELECT image_blob FROM models WHERE image_blob IN k`,
      JSON.stringify(keys),
    );
    return new Set(rows.map((r) => r.k as string));
  };
  const blobs = createBlobStore(path.join(opts.dataDir, 'blobs'), { referenced, tmpDir: path.join(opts.dataDir, 'tmp') });

  function pageArgs(args: PageArgs): { limit: number; afterId: string | null } {
    const first = args.first ?? PAGE_DEFAULT;
    if (!Number.isInteger(first) || first < 0) throw badInput('first must be a non-negative integer', { argument: 'first' });
    let afterId: string | null = null;
    if (args.after) {
      afterId = decodeCursor(args.after);
      if (!afterId) throw badInput('after is not a valid cursor', { argument: 'after' });
    }
    return { limit: Math.min(first, PAGE_MAX), afterId };
  }

  function page<T>(table: string, where: string[], params: unknown[], args: PageArgs, map: (r: Row) => T & { id: string }): Page<T> {
    const { limit, afterId } = pageArgs(args);
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const totalCount = get(`SELECT count(*) AS n FROM ${table} ${w}`, ...params)!.n as number;
    const keyset = afterId ? [...where, 'id < ?'] : where;
    const rows = all(
      `SELECT * FROM ${table} ${keyset.length ? `WHERE ${keyset.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
      ...params,
      ...(afterId ? [afterId] : []),
      limit + 1,
    );
    const nodes = rows.slice(0, limit).map(map);
    const last = nodes.at(-1);
    return { nodes, totalCount, hasNextPage: rows.length > limit, endCursor: last ? encodeCursor(last.id) : null };
  }

  /**
   * `page` for each of many `column` values at once (one page each, same arguments): two reads
   * whatever the number of keys, the counts grouped and the rows numbered per key.
   */
  function pagesBy<T>(
    table: string,
    column: string,
    keys: readonly string[],
    where: string[],
    params: unknown[],
    args: PageArgs,
    map: (r: Row) => T & { id: string },
  ): Map<string, Page<T>> {
    const { limit, afterId } = pageArgs(args);
    const pages = new Map<string, Page<T>>();
    if (keys.length === 0) return pages;
    const scope = [`${column} ${IN}`, ...where];
    const scopeParams = [ids(keys), ...params];
    const counts = all(`SELECT ${column} AS k, count(*) AS n FROM ${table} WHERE ${scope.join(' AND ')} GROUP BY ${column}`, ...scopeParams);
    const keyset = afterId ? [...scope, 'id < ?'] : scope;
    const rows = all(
      `SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY ${column} ORDER BY id DESC) AS page_row
         FROM ${table} WHERE ${keyset.join(' AND ')}) WHERE page_row <= ? ORDER BY id DESC`,
      ...scopeParams,
      ...(afterId ? [afterId] : []),
      limit + 1,
    );
    const byKey = new Map<string, Row[]>();
    for (const r of rows) byKey.set(r[column] as string, [...(byKey.get(r[column] as string) ?? []), r]);
    const totals = new Map(counts.map((r) => [r.k as string, r.n as number]));
    for (const key of keys) {
      const group = byKey.get(key) ?? [];
      const nodes = group.slice(0, limit).map(map);
      const last = nodes.at(-1);
      pages.set(key, { nodes, totalCount: totals.get(key) ?? 0, hasNextPage: group.length > limit, endCursor: last ? encodeCursor(last.id) : null });
    }
    return pages;
  }

  const insertImages = (column: string, ownerId: string, images: NewImage[], createdAt: string) =>
    images.map((img, position) => {
      if (!fs.existsSync(blobs.path(img.blob))) throw new Error(`blob ${img.blob} is not stored`);
      const id = newId();
      run(
        `INSERT INTO images (id, ${column}, name, blob, width, height, file_size, content_type, position, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        id, ownerId, img.name, img.blob, img.width, img.height, img.fileSize, img.contentType, position, createdAt,
      );
      return toImage({ id, [column]: ownerId, name: img.name, blob: img.blob, width: img.width, height: img.height, file_size: img.fileSize, content_type: img.contentType, position, created_at: createdAt });
    });

  const insertAnnotations = (column: 'item_id' | 'assessment_id', ownerId: string, list: NewAnnotation[], createdAt: string): AnnotationRecord[] =>
    list.map((a) => {
      const id = newId();
      run(
        `INSERT INTO annotations (id, ${column}, x_min, x_max, y_min, y_max, label, notes, score, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        id, ownerId, a.xMin, a.xMax, a.yMin, a.yMax, a.label, a.notes, a.score, createdAt,
      );
      return toAnnotation({ id, [column]: ownerId, x_min: a.xMin, x_max: a.xMax, y_min: a.yMin, y_max: a.yMax, label: a.label, notes: a.notes, score: a.score, created_at: createdAt });
    });

  const requireAll = (table: string, what: string, wanted: readonly string[]) => {
    if (wanted.length === 0) return;
    const found = new Set(all(`SELECT id FROM ${table} WHERE id ${IN}`, ids(wanted)).map((r) => r.id as string));
    const missing = wanted.find((id) => !found.has(id));
    if (missing !== undefined) throw notFound(what, missing);
  };

  const conflictOnUnique = <T>(fn: () => T, message: string): T => {
    try {
      return fn();
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' || (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new AppError(ErrorCode.CONFLICT, message);
      }
      throw err;
    }
  };

  const modelColumns: Record<keyof ModelPatch, [string, (v: never) => unknown]> = {
    name: ['name', (v: string) => v],
    status: ['status', (v: string) => v],
    statusText: ['status_text', (v: string | null) => v],
    progress: ['progress', (v: number) => v],
    stage: ['stage', (v: string | null) => v],
    okImageCount: ['ok_image_count', (v: number) => v],
    ngImageCount: ['ng_image_count', (v: number) => v],
    trainingTime: ['training_time', (v: number | null) => v],
    stats: ['stats', (v: unknown) => (v == null ? null : JSON.stringify(v))],
    predictParameters: ['predict_parameters', (v: unknown) => JSON.stringify(v)],
    onnxBlob: ['onnx_blob', (v: string | null) => v],
    inputSpec: ['input_spec', (v: unknown) => (v == null ? null : JSON.stringify(v))],
    imageBlob: ['image_blob', (v: string | null) => v],
  };

  const sweepBlobs = async (olderThanMs = SWEEP_MIN_AGE_MS) => {
    const rows = all(
      `SELECT blob AS k FROM images UNION SELECT onnx_blob FROM models WHERE onnx_blob IS NOT NULL
       UNION SELECT image_blob FROM models WHERE image_blob IS NOT NULL`,
    );
    const removed = await blobs.sweep(new Set(rows.map((r) => r.k as string)), { olderThanMs });
    // Staged uploads a crashed process left behind.
    const cutoff = now() - olderThanMs;
    let stale = 0;
    for (const f of await fs.promises.readdir(blobs.tmpDir).catch(() => [] as string[])) {
      const file = path.join(blobs.tmpDir, f);
      const st = await fs.promises.stat(file).catch(() => null);
      if (st?.isFile() && st.mtimeMs <= cutoff) {
        await fs.promises.rm(file, { force: true });
        stale++;
      }
    }
    return removed + stale;
  };

  const store: SqliteStore = {
    blobs,
    stats,
    sweepBlobs,

    // ---- targets
    async listTargets() {
      return all('SELECT * FROM targets ORDER BY id').map(toTarget);
    },
    async targetsByIds(list) {
      if (list.length === 0) return [];
      return all(`SELECT * FROM targets WHERE id ${IN}`, ids(list)).map(toTarget);
    },
    async defaultTarget() {
      const r = get('SELECT * FROM targets WHERE is_default = 1');
      return r ? toTarget(r) : null;
    },
    /** The first target created becomes the default one. */
    async createTarget(name, preprocessing) {
      const clean = name.trim();
      if (!clean) throw badInput('name must not be empty', { argument: 'name' });
      return tx(() => {
        const isDefault = get('SELECT 1 AS x FROM targets WHERE is_default = 1') ? 0 : 1;
        const r = conflictOnUnique(
          () =>
            write(
              'INSERT INTO targets (id, name, is_default, preprocessing, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
              newId(), clean, isDefault, JSON.stringify(preprocessing), iso(),
            )!,
          `a target named "${clean}" already exists`,
        );
        return toTarget(r);
      });
    },
    async setDefaultTarget(id) {
      return tx(() => {
        if (!get('SELECT 1 AS x FROM targets WHERE id = ?', id)) throw notFound('Target', id);
        run('UPDATE targets SET is_default = 0 WHERE is_default = 1 AND id <> ?', id);
        return toTarget(write('UPDATE targets SET is_default = 1 WHERE id = ? RETURNING *', id)!);
      });
    },

    // ---- algorithms
    async syncAlgorithms(defs) {
      tx(() => {
        for (const d of defs) {
          run(
            `INSERT INTO algorithms (id, name, version, type, attribute, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = excluded.version, type = excluded.type,
               attribute = excluded.attribute, description = excluded.description`,
            d.id, d.name, d.version, d.type, d.attribute, d.description, iso(),
          );
          d.parameters.forEach((p, position) =>
            run(
              `INSERT INTO algorithm_parameters (id, algorithm_id, name, display_name, data_type, value, range_lower, range_upper, model_parameter, position)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (algorithm_id, name) DO UPDATE SET display_name = excluded.display_name, data_type = excluded.data_type,
                 value = excluded.value, range_lower = excluded.range_lower, range_upper = excluded.range_upper,
                 model_parameter = excluded.model_parameter, position = excluded.position`,
              newId(), d.id, p.name, p.displayName, p.dataType, p.value, p.rangeLower, p.rangeUpper, bit(p.modelParameter), position,
            ),
          );
          run(
            `DELETE FROM algorithm_parameters WHERE algorithm_id = ? AND name NOT ${IN}`,
            d.id, JSON.stringify(d.parameters.map((p) => p.name)),
          );
        }
      });
    },
    async listAlgorithms() {
      return all('SELECT * FROM algorithms ORDER BY name, id').map(toAlgorithm);
    },
    async algorithmsByIds(list) {
      if (list.length === 0) return [];
      return all(`SELECT * FROM algorithms WHERE id ${IN}`, ids(list)).map(toAlgorithm);
    },
    async parametersByAlgorithmIds(list) {
      if (list.length === 0) return [];
      return all(`SELECT * FROM algorithm_parameters WHERE algorithm_id ${IN} ORDER BY algorithm_id, position`, ids(list)).map(toParameter);
    },

    // ---- models
    async listModels(filter, args) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.algorithmId) (where.push('algorithm_id = ?'), params.push(filter.algorithmId));
      if (filter.targetId) (where.push('target_id = ?'), params.push(filter.targetId));
      if (filter.status) (where.push('status = ?'), params.push(filter.status));
      return page('models', where, params, args, toModel);
    },
    async modelPagesByTargets(targetIds, args) {
      return pagesBy('models', 'target_id', targetIds, [], [], args, toModel);
    },
    async modelsByIds(list) {
      if (list.length === 0) return [];
      return all(`SELECT * FROM models WHERE id ${IN}`, ids(list)).map(toModel);
    },
    async activeModel(targetId) {
      const r = get('SELECT * FROM models WHERE target_id = ? AND active = 1', targetId);
      return r ? toModel(r) : null;
    },
    async activeModelsByTargetIds(targetIds) {
      if (targetIds.length === 0) return [];
      return all(`SELECT * FROM models WHERE active = 1 AND target_id ${IN}`, ids(targetIds)).map(toModel);
    },
    async createModel(m) {
      const model = tx(() => {
        requireAll('algorithms', 'Algorithm', [m.algorithmId]);
        requireAll('targets', 'Target', [m.targetId]);
        const t = iso();
        return toModel(
          write(
            `INSERT INTO models (id, name, version, status, progress, active, algorithm_id, target_id, ok_image_count, ng_image_count,
               predict_parameters, params, train_item_ids, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
            newId(), m.name, m.version, m.status, m.status === 'READY' ? 1 : 0, m.algorithmId, m.targetId, m.okImageCount,
            m.ngImageCount, JSON.stringify(m.predictParameters), JSON.stringify(m.params), JSON.stringify(m.trainItemIds), t, t,
          )!,
        );
      });
      return model;
    },
    async updateModel(id, patch) {
      const sets: string[] = [];
      const params: unknown[] = [];
      for (const [k, v] of Object.entries(patch) as [keyof ModelPatch, never][]) {
        const col = modelColumns[k];
        if (!col || v === undefined) continue;
        sets.push(`${col[0]} = ?`);
        params.push(col[1](v));
      }
      sets.push('updated_at = ?');
      params.push(iso());
      const r = write(`UPDATE models SET ${sets.join(', ')} WHERE id = ? RETURNING *`, ...params, id);
      if (!r) throw notFound('Model', id);
      blobs.release([patch.onnxBlob, patch.imageBlob].filter((k): k is string => !!k));
      return toModel(r);
    },
    async activateModel(id) {
      return tx(() => {
        const m = get('SELECT * FROM models WHERE id = ?', id);
        if (!m) throw notFound('Model', id);
        if (m.status !== 'READY') {
          throw new AppError(ErrorCode.CONFLICT, `model "${id}" is ${String(m.status)}; only a READY model can be activated`, { id });
        }
        run('UPDATE models SET active = 0, updated_at = ? WHERE target_id = ? AND active = 1 AND id <> ?', iso(), m.target_id, id);
        return toModel(write('UPDATE models SET active = 1, updated_at = ? WHERE id = ? RETURNING *', iso(), id)!);
      });
    },
    async deleteModels(list) {
      if (list.length === 0) return [];
      const { existing, keys } = tx(() => {
        const existing = all(`SELECT id FROM models WHERE id ${IN}`, ids(list)).map((r) => r.id as string);
        if (existing.length === 0) return { existing, keys: [] as string[] };
        const j = JSON.stringify(existing);
        const keys = all(
          `WITH m AS (SELECT value FROM json_each(?))
           SELECT blob AS k FROM images WHERE model_id IN m
             OR assessment_id IN (SELECT id FROM assessments WHERE model_id IN m)
           UNION SELECT onnx_blob FROM models WHERE id IN m AND onnx_blob IS NOT NULL
           UNION SELECT image_blob FROM models WHERE id IN m AND image_blob IS NOT NULL`,
          j,
        ).map((r) => r.k as string);
        run(`DELETE FROM models WHERE id ${IN}`, j);
        return { existing, keys };
      });
      await blobs.deleteUnreferenced(keys);
      return existing;
    },
    async modelsWithStatus(statuses) {
      if (statuses.length === 0) return [];
      return all(`SELECT * FROM models WHERE status ${IN} ORDER BY id`, JSON.stringify(statuses)).map(toModel);
    },

    // ---- items
    /**
     * `modelId` narrows to the items that model has assessed or was trained on (its
     * `trainItemIds`): with type PREDICTION that is what it predicted, with TRAINING its
     * training set (plus any training items it assessed).
     */
    async listItems(filter, args) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.type) (where.push('type = ?'), params.push(filter.type));
      if (filter.targetId) (where.push('target_id = ?'), params.push(filter.targetId));
      if (filter.modelId) {
        where.push(
          `id IN (SELECT item_id FROM assessments WHERE model_id = ?
                  UNION SELECT j.value FROM models m, json_each(m.train_item_ids) j WHERE m.id = ?)`,
        );
        params.push(filter.modelId, filter.modelId);
      }
      return page('items', where, params, args, toItem);
    },
    async itemPagesByTargets(targetIds, filter, args) {
      const [where, params] = filter.type ? [['type = ?'], [filter.type]] : [[], []];
      return pagesBy('items', 'target_id', targetIds, where, params, args, toItem);
    },
    async itemsByIds(list) {
      if (list.length === 0) return [];
      return all(`SELECT * FROM items WHERE id ${IN}`, ids(list)).map(toItem);
    },
    async addItems(items) {
      if (items.length === 0) return [];
      const created = tx(() => {
        requireAll('targets', 'Target', [...new Set(items.map((i) => i.targetId))]);
        const t = iso();
        return items.map((it) => {
          const r = write(
            'INSERT INTO items (id, name, target_id, type, active, good, created_at) VALUES (?, ?, ?, ?, 1, ?, ?) RETURNING *',
            newId(), it.name, it.targetId, it.type, bit(it.good), t,
          )!;
          insertImages('item_id', r.id as string, it.images, t);
          return toItem(r);
        });
      });
      blobs.release(items.flatMap((i) => i.images.map((img) => img.blob)));
      return created;
    },
    async labelItem(id, good, label) {
      const r = write('UPDATE items SET good = ?, user_label = ? WHERE id = ? RETURNING *', bit(good), label, id);
      if (!r) throw notFound('Item', id);
      return toItem(r);
    },
    async deleteItems(list) {
      if (list.length === 0) return [];
      const { existing, keys } = tx(() => {
        const existing = all(`SELECT id FROM items WHERE id ${IN}`, ids(list)).map((r) => r.id as string);
        if (existing.length === 0) return { existing, keys: [] as string[] };
        const j = JSON.stringify(existing);
        const keys = all(
          `WITH i AS (SELECT value FROM json_each(?))
           SELECT DISTINCT blob AS k FROM images WHERE item_id IN i
             OR assessment_id IN (SELECT id FROM assessments WHERE item_id IN i)`,
          j,
        ).map((r) => r.k as string);
        run(`DELETE FROM items WHERE id ${IN}`, j);
        return { existing, keys };
      });
      await blobs.deleteUnreferenced(keys);
      return existing;
    },
    async imagesByOwners(kind, ownerIds) {
      if (ownerIds.length === 0) return [];
      const col = imageOwnerColumn[kind];
      if (!col) throw new Error(`unknown image owner kind ${kind}`);
      return all(`SELECT * FROM images WHERE ${col} ${IN} ORDER BY ${col}, position`, ids(ownerIds)).map(toImage);
    },
    async imagesByIds(list) {
      if (list.length === 0) return [];
      return all(`SELECT * FROM images WHERE id ${IN}`, ids(list)).map(toImage);
    },

    // ---- annotations
    async annotationsByOwners(kind, ownerIds) {
      if (ownerIds.length === 0) return [];
      const col = kind === 'user' ? 'item_id' : 'assessment_id';
      return all(`SELECT * FROM annotations WHERE ${col} ${IN} ORDER BY ${col}, id`, ids(ownerIds)).map(toAnnotation);
    },
    async setUserAnnotations(itemId, annotations) {
      return tx(() => {
        if (!get('SELECT 1 AS x FROM items WHERE id = ?', itemId)) throw notFound('Item', itemId);
        run('DELETE FROM annotations WHERE item_id = ?', itemId);
        return insertAnnotations('item_id', itemId, annotations, iso());
      });
    },

    // ---- assessments
    async assessmentsByItemIds(itemIds, modelId) {
      if (itemIds.length === 0) return [];
      if (modelId) {
        return all(`SELECT * FROM assessments WHERE item_id ${IN} AND model_id = ? ORDER BY id DESC`, ids(itemIds), modelId).map(toAssessment);
      }
      return all(`SELECT * FROM assessments WHERE item_id ${IN} ORDER BY id DESC`, ids(itemIds)).map(toAssessment);
    },
    async assessmentsByIds(list) {
      if (list.length === 0) return [];
      return all(`SELECT * FROM assessments WHERE id ${IN}`, ids(list)).map(toAssessment);
    },
    async assessmentsByModelIds(modelIds) {
      if (modelIds.length === 0) return [];
      return all(`SELECT * FROM assessments WHERE model_id ${IN} ORDER BY id DESC`, ids(modelIds)).map(toAssessment);
    },
    async addAssessments(list) {
      if (list.length === 0) return [];
      const created = tx(() => {
        requireAll('items', 'Item', [...new Set(list.map((a) => a.itemId))]);
        requireAll('models', 'Model', [...new Set(list.map((a) => a.modelId))]);
        const t = iso();
        return list.map((a) => {
          const r = write(
            `INSERT INTO assessments (id, item_id, model_id, result, label, score, threshold, detected_objects, detection_accuracy, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
            newId(), a.itemId, a.modelId, a.result, a.label, a.score, a.threshold, a.detectedObjects, a.detectionAccuracy, t,
          )!;
          insertAnnotations('assessment_id', r.id as string, a.annotations, t);
          insertImages('assessment_id', r.id as string, a.images, t);
          return toAssessment(r);
        });
      });
      blobs.release(list.flatMap((a) => a.images.map((img) => img.blob)));
      return created;
    },

    // ---- auth, license, settings
    async clientById(clientId) {
      const r = get('SELECT * FROM clients WHERE client_id = ?', clientId);
      return r ? toClient(r) : null;
    },
    async createClient(c) {
      conflictOnUnique(
        () => run('INSERT INTO clients (client_id, secret_hash, scope, name, created_at) VALUES (?, ?, ?, ?, ?)', c.clientId, c.secretHash, c.scope, c.name, c.createdAt),
        `client "${c.clientId}" already exists`,
      );
      return c;
    },
    async updateClient(clientId, patch) {
      const r = write(
        `UPDATE clients SET secret_hash = coalesce(?, secret_hash), scope = coalesce(?, scope), name = coalesce(?, name)
         WHERE client_id = ? RETURNING *`,
        patch.secretHash ?? null, patch.scope ?? null, patch.name ?? null, clientId,
      );
      if (!r) throw notFound('Client', clientId);
      return toClient(r);
    },
    async countClients() {
      return get('SELECT count(*) AS n FROM clients')!.n as number;
    },
    async license() {
      const r = get('SELECT * FROM license WHERE id = 1');
      return r ? { document: r.document as string, expiresAt: (r.expires_at as string | null) ?? null, installedAt: r.installed_at as string } : null;
    },
    async setLicense(l) {
      run(
        `INSERT INTO license (id, document, expires_at, installed_at) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET document = excluded.document, expires_at = excluded.expires_at, installed_at = excluded.installed_at`,
        l.document, l.expiresAt, l.installedAt,
      );
      return l;
    },
    async getSetting(key) {
      const r = get('SELECT value FROM settings WHERE key = ?', key);
      return r ? (r.value as string) : null;
    },
    async setSetting(key, value) {
      run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value);
    },

    async ping() {
      try {
        return get('SELECT 1 AS ok')?.ok === 1;
      } catch {
        return false;
      }
    },
    async close() {
      if (db.open) db.close();
    },
  };

  const swept = await sweepBlobs();
  if (swept) opts.log?.info({ swept }, 'removed unreferenced blob files');
  return store;
}

