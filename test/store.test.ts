import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.ts';

import type { LocalStore } from '../src/runtime/store/index.ts';
import type { NewAssessment, NewImage, NewItem, NewModel } from '../src/runtime/store/store.ts';
import { ENGINES, openTestStore, type TestStore } from './store-engines.ts';

// Every test here runs on the embedded SQLite store and on PostgreSQL (store-engines.ts).
describe.each(ENGINES)('store on %s', (engine) => {
  let fx: TestStore;
  let dir: string;
  let store: LocalStore;

  beforeEach(async () => {
    fx = await openTestStore(engine);
    dir = fx.dataDir;
    store = fx.store;
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  const codeOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      if (err instanceof AppError) return err.code;
      throw err;
    }
    throw new Error('expected an AppError');
  };

  const blobFiles = () =>
    fs.existsSync(path.join(dir, 'blobs'))
      ? fs.readdirSync(path.join(dir, 'blobs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length
      : 0;

  async function image(content: string, name = `${content}.png`): Promise<NewImage> {
    const blob = await store.blobs.put(Buffer.from(content));
    return { name, blob, width: 2, height: 3, fileSize: content.length, contentType: 'image/png' };
  }

  const item = (targetId: string, name: string, images: NewImage[] = [], type: NewItem['type'] = 'TRAINING'): NewItem => ({
    name,
    targetId,
    type,
    good: true,
    images,
  });

  async function algorithm() {
    await store.syncAlgorithms([
      {
        id: 'patchcore',
        name: 'PatchCore',
        version: '1',
        type: 'anomaly',
        attribute: 'unsupervised',
        description: 'memory bank',
        parameters: [
          { name: 'k', displayName: 'K', dataType: 'int', value: '3', rangeLower: '1', rangeUpper: '9', modelParameter: false },
          { name: 'threshold', displayName: null, dataType: 'float', value: '0.5', rangeLower: '0', rangeUpper: '1', modelParameter: true },
        ],
      },
    ]);
    return 'patchcore';
  }

  const model = (targetId: string, over: Partial<NewModel> = {}): NewModel => ({
    name: 'm',
    version: '1',
    algorithmId: 'patchcore',
    targetId,
    status: 'READY',
    params: { k: '3' },
    predictParameters: { threshold: 0.5, ignoreOuter: 0, minDetectedArea: 0 },
    trainItemIds: [],
    okImageCount: 0,
    ngImageCount: 0,
    ...over,
  });

  const assessment = (itemId: string, modelId: string, images: NewImage[] = []): NewAssessment => ({
    itemId,
    modelId,
    result: 'BAD',
    label: 'scratch',
    score: 0.9,
    threshold: 0.5,
    detectedObjects: 1,
    detectionAccuracy: 90,
    annotations: [{ xMin: 1, xMax: 2, yMin: 3, yMax: 4, label: 1, notes: null, score: 0.9 }],
    images,
  });

  describe('targets', () => {
    it('makes the first target the default and moves the default on request', async () => {
      const a = await store.createTarget('a', [{ name: 'crop', active: true, config: '{}' }]);
      const b = await store.createTarget('b', []);
      expect(a.isDefault).toBe(true);
      expect(b.isDefault).toBe(false);
      expect(a.preprocessing).toEqual([{ name: 'crop', active: true, config: '{}' }]);
      await store.setDefaultTarget(b.id);
      expect((await store.defaultTarget())?.id).toBe(b.id);
      const all = await store.listTargets();
      expect(all.map((t) => [t.name, t.isDefault])).toEqual([
        ['a', false],
        ['b', true],
      ]);
      expect(await codeOf(store.createTarget('a', []))).toBe('CONFLICT');
      expect(await codeOf(store.setDefaultTarget('nope'))).toBe('NOT_FOUND');
    });
  });

  describe('pagination', () => {
    it('walks every item once, newest first, with keyset cursors and a filtered totalCount', async () => {
      const t1 = await store.createTarget('t1', []);
      const t2 = await store.createTarget('t2', []);
      await store.addItems(Array.from({ length: 45 }, (_, i) => item(t1.id, `i${i}`)));
      await store.addItems(Array.from({ length: 7 }, (_, i) => item(t2.id, `j${i}`)));
      await store.addItems([item(t1.id, 'p', [], 'PREDICTION')]);

      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const page = await store.listItems({ type: 'TRAINING', targetId: t1.id }, { first: 20, after });
        expect(page.totalCount).toBe(45);
        seen.push(...page.nodes.map((n) => n.name));
        pages++;
        if (!page.hasNextPage) break;
        after = page.endCursor;
      }
      expect(pages).toBe(3);
      expect(seen).toEqual(Array.from({ length: 45 }, (_, i) => `i${44 - i}`));

      const unfiltered = await store.listItems({ type: 'TRAINING' }, {});
      expect(unfiltered.totalCount).toBe(52);
      expect(unfiltered.nodes).toHaveLength(20);
      expect((await store.listItems({ type: 'PREDICTION' }, {})).totalCount).toBe(1);
      expect((await store.listItems({ targetId: t1.id }, {})).totalCount).toBe(46);
    });

    it('pages many targets in one read, each newest first from its cursor, and counts them only when asked', async () => {
      const [a, b, c] = [await store.createTarget('a', []), await store.createTarget('b', []), await store.createTarget('c', [])];
      // Interleaved, so that a page that took another target's rows or lost the order would show.
      for (let i = 0; i < 6; i++) {
        await store.addItems([item(a.id, `a${i}`), item(b.id, `b${i}`, [], i % 2 ? 'PREDICTION' : 'TRAINING')]);
      }
      const reads = store.stats.reads;
      const pages = await store.itemPagesByTargets([a.id, b.id, c.id, a.id], {}, { first: 4 });
      expect(store.stats.reads - reads).toBe(1);
      expect(pages.get(a.id)!.nodes.map((n) => n.name)).toEqual(['a5', 'a4', 'a3', 'a2']);
      expect(pages.get(a.id)).toMatchObject({ hasNextPage: true, endCursor: expect.any(String) });
      expect(pages.get(a.id)).not.toHaveProperty('totalCount');
      expect(pages.get(c.id)).toEqual({ nodes: [], hasNextPage: false, endCursor: null });
      const next = await store.itemPagesByTargets([a.id], {}, { first: 4, after: pages.get(a.id)!.endCursor });
      expect(next.get(a.id)!.nodes.map((n) => n.name)).toEqual(['a1', 'a0']);
      expect(next.get(a.id)!.hasNextPage).toBe(false);
      // The same page as listItems gives one target at a time.
      const typed = await store.itemPagesByTargets([b.id], { type: 'PREDICTION' }, { first: 2 });
      const single = await store.listItems({ type: 'PREDICTION', targetId: b.id }, { first: 2 });
      expect(typed.get(b.id)!.nodes).toEqual(single.nodes);
      expect(typed.get(b.id)!.endCursor).toBe(single.endCursor);

      const before = store.stats.reads;
      const counts = await store.itemCountsByTargets([a.id, b.id, c.id], {});
      expect(store.stats.reads - before).toBe(1);
      expect(Object.fromEntries(counts)).toEqual({ [a.id]: 6, [b.id]: 6, [c.id]: 0 });
      expect((await store.itemCountsByTargets([b.id], { type: 'PREDICTION' })).get(b.id)).toBe(3);
      expect((await store.modelCountsByTargets([a.id])).get(a.id)).toBe(0);
    });

    it('clamps first to 100 and refuses foreign cursors and negative sizes', async () => {
      const t = await store.createTarget('t', []);
      await store.addItems(Array.from({ length: 120 }, (_, i) => item(t.id, `i${i}`)));
      const page = await store.listItems({ type: 'TRAINING' }, { first: 1000 });
      expect(page.nodes).toHaveLength(100);
      expect(page.hasNextPage).toBe(true);
      const empty = await store.listItems({ type: 'TRAINING' }, { first: 0 });
      expect(empty).toMatchObject({ nodes: [], totalCount: 120, hasNextPage: true, endCursor: null });
      expect(await codeOf(store.listItems({ type: 'TRAINING' }, { after: 'bm9wZQ' }))).toBe('BAD_USER_INPUT');
      expect(await codeOf(store.listItems({ type: 'TRAINING' }, { first: -1 }))).toBe('BAD_USER_INPUT');
    });

    it('filters models by algorithm, target and status', async () => {
      await algorithm();
      const t1 = await store.createTarget('t1', []);
      const t2 = await store.createTarget('t2', []);
      await store.createModel(model(t1.id));
      await store.createModel(model(t1.id, { status: 'QUEUED' }));
      await store.createModel(model(t2.id));
      expect((await store.listModels({}, {})).totalCount).toBe(3);
      expect((await store.listModels({ targetId: t1.id }, {})).totalCount).toBe(2);
      expect((await store.listModels({ targetId: t1.id, status: 'READY' }, {})).totalCount).toBe(1);
      expect((await store.listModels({ algorithmId: 'other' }, {})).totalCount).toBe(0);
      expect((await store.modelsWithStatus(['QUEUED', 'TRAINING'])).map((m) => m.status)).toEqual(['QUEUED']);
    });

    it('narrows items to those a model assessed or was trained on', async () => {
      await algorithm();
      const t = await store.createTarget('t', []);
      const [trained, other] = await store.addItems([item(t.id, 'trained'), item(t.id, 'other')]);
      const [predicted] = await store.addItems([item(t.id, 'predicted', [], 'PREDICTION'), item(t.id, 'unseen', [], 'PREDICTION')]);
      const m = await store.createModel(model(t.id, { trainItemIds: [trained!.id] }));
      await store.addAssessments([assessment(predicted!.id, m.id)]);
      const training = await store.listItems({ type: 'TRAINING', modelId: m.id }, {});
      expect(training.nodes.map((i) => i.name)).toEqual(['trained']);
      expect(training.totalCount).toBe(1);
      const prediction = await store.listItems({ type: 'PREDICTION', modelId: m.id }, {});
      expect(prediction.nodes.map((i) => i.name)).toEqual(['predicted']);
      expect(other).toBeDefined();
    });
  });

  describe('models', () => {
    it('keeps at most one active model per target', async () => {
      await algorithm();
      const t1 = await store.createTarget('t1', []);
      const t2 = await store.createTarget('t2', []);
      const a = await store.createModel(model(t1.id));
      const b = await store.createModel(model(t1.id));
      const c = await store.createModel(model(t2.id));
      const queued = await store.createModel(model(t1.id, { status: 'QUEUED' }));
      await store.activateModel(a.id);
      await store.activateModel(c.id);
      await store.activateModel(b.id);
      const byId = new Map((await store.modelsByIds([a.id, b.id, c.id])).map((m) => [m.id, m.active]));
      expect(Object.fromEntries(byId)).toEqual({ [a.id]: false, [b.id]: true, [c.id]: true });
      expect((await store.activeModel(t1.id))?.id).toBe(b.id);
      expect(await codeOf(store.activateModel(queued.id))).toBe('CONFLICT');
      expect(await codeOf(store.activateModel('nope'))).toBe('NOT_FOUND');
    });

    it("writes each target's activation history with the switch, newest first, and only real switches", async () => {
      await algorithm();
      const t1 = await store.createTarget('t1', []);
      const t2 = await store.createTarget('t2', []);
      const a = await store.createModel(model(t1.id));
      const b = await store.createModel(model(t1.id));
      const c = await store.createModel(model(t2.id));
      await store.activateModel(a.id, 'alice');
      await store.activateModel(c.id, 'line-client');
      await store.activateModel(b.id, 'bob');
      await store.activateModel(b.id, 'bob');
      await store.activateModel(a.id);
      const line = (h: { modelId: string; previousModelId: string | null; actor: string | null }) => [h.modelId, h.previousModelId, h.actor];
      expect((await store.activationHistory(t1.id, 10)).map(line)).toEqual([
        [a.id, b.id, null],
        [b.id, a.id, 'bob'],
        [a.id, null, 'alice'],
      ]);
      expect((await store.activationHistory(t1.id, 1)).map(line)).toEqual([[a.id, b.id, null]]);
      expect((await store.activationHistory(t2.id, 10)).map(line)).toEqual([[c.id, null, 'line-client']]);
      // A deleted model takes its lines along.
      await store.deleteModels([b.id]);
      expect((await store.activationHistory(t1.id, 10)).map(line)).toEqual([
        [a.id, b.id, null],
        [a.id, null, 'alice'],
      ]);
    });

    it('updates a patch of fields and refuses unknown algorithm or target', async () => {
      await algorithm();
      const t = await store.createTarget('t', []);
      const m = await store.createModel(model(t.id, { status: 'QUEUED' }));
      const stats = { accuracy: 0.9, precision: { computed: 1, projected: null }, recall: { computed: 0.5, projected: 0.6 }, method: 'split' };
      const u = await store.updateModel(m.id, { status: 'TRAINING', progress: 0.5, stats, inputSpec: { size: 224 } });
      expect(u).toMatchObject({ status: 'TRAINING', progress: 0.5, stats, inputSpec: { size: 224 }, name: 'm' });
      expect(await codeOf(store.updateModel('nope', { progress: 1 }))).toBe('NOT_FOUND');
      expect(await codeOf(store.createModel(model(t.id, { algorithmId: 'nope' })))).toBe('NOT_FOUND');
      expect(await codeOf(store.createModel(model('nope')))).toBe('NOT_FOUND');
    });
  });

  describe('cascades and blob cleanup', () => {
    it('deleteItems removes assessments, annotations and images, and blobs nobody else uses', async () => {
      await algorithm();
      const t = await store.createTarget('t', []);
      const shared = await image('shared');
      const [doomed, kept] = await store.addItems([item(t.id, 'doomed', [await image('only-doomed'), shared]), item(t.id, 'kept', [shared])]);
      const m = await store.createModel(model(t.id));
      const [a] = await store.addAssessments([assessment(doomed!.id, m.id, [await image('heatmap')])]);
      await store.setUserAnnotations(doomed!.id, [{ xMin: 0, xMax: 1, yMin: 0, yMax: 1, label: 0, notes: 'x', score: null }]);
      const doomedImages = await store.imagesByOwners('item', [doomed!.id]);
      expect(blobFiles()).toBe(3);

      expect(await store.deleteItems([doomed!.id, 'missing'])).toEqual([doomed!.id]);
      expect(await store.itemsByIds([doomed!.id, kept!.id])).toHaveLength(1);
      expect(await store.assessmentsByIds([a!.id])).toEqual([]);
      expect(await store.annotationsByOwners('assessment', [a!.id])).toEqual([]);
      expect(await store.annotationsByOwners('user', [doomed!.id])).toEqual([]);
      expect(await store.imagesByIds(doomedImages.map((i) => i.id))).toEqual([]);
      expect(await store.blobs.has(shared.blob)).toBe(true);
      expect(blobFiles()).toBe(1);
      expect(await store.deleteItems([])).toEqual([]);
    });

    it('deleteModels removes assessments and model files but keeps item images', async () => {
      await algorithm();
      const t = await store.createTarget('t', []);
      const photo = await image('photo');
      const [it1] = await store.addItems([item(t.id, 'x', [photo])]);
      const onnx = await store.blobs.put(Buffer.from('onnx'));
      const m = await store.createModel(model(t.id));
      await store.updateModel(m.id, { onnxBlob: onnx });
      await store.addAssessments([assessment(it1!.id, m.id, [await image('overlay')])]);
      expect(blobFiles()).toBe(3);
      expect(await store.deleteModels([m.id, 'nope'])).toEqual([m.id]);
      expect(await store.assessmentsByItemIds([it1!.id])).toEqual([]);
      expect(await store.blobs.has(onnx)).toBe(false);
      expect(await store.blobs.has(photo.blob)).toBe(true);
      expect(blobFiles()).toBe(1);
    });

    it('leaves a blob an in-flight upload holds until that upload releases it', async () => {
      const t = await store.createTarget('t', []);
      const photo = await image('photo');
      const [x] = await store.addItems([item(t.id, 'x', [photo])]);
      await store.blobs.put(Buffer.from('photo'), { hold: true });
      await store.deleteItems([x!.id]);
      expect(await store.blobs.has(photo.blob)).toBe(true);
      store.blobs.release([photo.blob]);
      expect(await store.blobs.deleteUnreferenced([photo.blob])).toEqual([photo.blob]);
      expect(await store.blobs.has(photo.blob)).toBe(false);
    });

    it('sweeps old unreferenced blobs and stale temp files at start, sparing recent ones', async () => {
      const t = await store.createTarget('t', []);
      await store.addItems([item(t.id, 'x', [await image('used')])]);
      const old = await store.blobs.put(Buffer.from('orphan'));
      const recent = await store.blobs.put(Buffer.from('recent download'));
      const stale = path.join(store.blobs.tmpDir, 'upload-stale');
      fs.writeFileSync(stale, 'x');
      const past = new Date(Date.now() - 2 * 3600_000);
      fs.utimesSync(store.blobs.path(old), past, past);
      fs.utimesSync(stale, past, past);
      store = await fx.reopen();
      expect(await store.blobs.has(old)).toBe(false);
      expect(await store.blobs.has(recent)).toBe(true);
      expect(fs.existsSync(stale)).toBe(false);
      expect(blobFiles()).toBe(2);
    });
  });

  describe('atomic writes', () => {
    it('addItems stores nothing when one item fails', async () => {
      const t = await store.createTarget('t', []);
      const good = await image('good');
      expect(await codeOf(store.addItems([item(t.id, 'a', [good]), item('missing-target', 'b')]))).toBe('NOT_FOUND');
      const missingBlob: NewImage = { ...good, blob: 'f'.repeat(64) };
      await expect(store.addItems([item(t.id, 'a', [good]), item(t.id, 'b', [missingBlob])])).rejects.toThrow(/not stored/);
      expect((await store.listItems({ type: 'TRAINING' }, {})).totalCount).toBe(0);
      expect(await fx.query('SELECT count(*) AS n FROM images')).toEqual([{ n: engine === 'postgres' ? '0' : 0 }]);
    });

    it('replaces user annotations as a whole', async () => {
      const t = await store.createTarget('t', []);
      const [x] = await store.addItems([item(t.id, 'x')]);
      const box = { xMin: 0, xMax: 1, yMin: 0, yMax: 1, label: 0, notes: null, score: null };
      await store.setUserAnnotations(x!.id, [box, box]);
      const after = await store.setUserAnnotations(x!.id, [{ ...box, notes: 'one' }]);
      expect(after).toHaveLength(1);
      expect((await store.annotationsByOwners('user', [x!.id])).map((a) => a.notes)).toEqual(['one']);
      expect(await codeOf(store.setUserAnnotations('nope', []))).toBe('NOT_FOUND');
      const labelled = await store.labelItem(x!.id, false, 'scratch');
      expect(labelled).toMatchObject({ good: false, userLabel: 'scratch' });
    });
  });

  describe('migrations and settings', () => {
    it('migrates once and keeps data across reopen', async () => {
      await store.createTarget('t', []);
      await store.setSetting('k', 'v1');
      await store.setSetting('k', 'v2');
      await store.setLicense({ document: '{}', expiresAt: null, installedAt: new Date().toISOString() });
      await store.createClient({ clientId: 'c', secretHash: 'h', scope: 'read', name: null, createdAt: new Date().toISOString() });
      for (let i = 0; i < 2; i++) store = await fx.reopen();
      expect((await store.listTargets()).map((t) => t.name)).toEqual(['t']);
      expect(await store.getSetting('k')).toBe('v2');
      expect((await store.license())?.document).toBe('{}');
      expect(await store.countClients()).toBe(1);
      expect((await store.updateClient('c', { scope: 'all' })).scope).toBe('all');
      expect((await fx.query<{ name: string }>('SELECT name FROM kysely_migration ORDER BY name')).map((r) => r.name)).toEqual([
        '0001_initial',
        '0002_integer_keys',
        '0003_webhooks',
        '0004_scale_out',
        '0005_security',
        '0006_users',
        '0007_regions',
        '0008_activations',
        '0009_item_pages',
      ]);
      if (engine === 'sqlite') expect(await fx.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
      expect(await store.ping()).toBe(true);
    });

    it('syncs algorithms by id and parameters by name with stable ids', async () => {
      await algorithm();
      const [before] = await store.parametersByAlgorithmIds(['patchcore']);
      await store.syncAlgorithms([
        {
          id: 'patchcore',
          name: 'PatchCore v2',
          version: '2',
          type: 'anomaly',
          attribute: 'unsupervised',
          description: 'd',
          parameters: [{ name: 'k', displayName: 'K', dataType: 'int', value: '5', rangeLower: '1', rangeUpper: '9', modelParameter: false }],
        },
      ]);
      const params = await store.parametersByAlgorithmIds(['patchcore']);
      expect(params.map((p) => [p.id, p.name, p.value])).toEqual([[before!.id, 'k', '5']]);
      expect((await store.listAlgorithms()).map((a) => a.name)).toEqual(['PatchCore v2']);
    });
  });

  describe('integer keys', () => {
    it('gives targets, parameters and annotations stable integer keys that are never handed out twice', async () => {
      const a = await store.createTarget('a', []);
      const b = await store.createTarget('b', []);
      expect([a.key, b.key]).toEqual([1, 2]);
      expect((await store.targetsByIds([b.id]))[0]!.key).toBe(2);

      await algorithm();
      const params = await store.parametersByAlgorithmIds(['patchcore']);
      expect(params.map((p) => p.key)).toEqual([1, 2]);

      const [x] = await store.addItems([item(a.id, 'x')]);
      const box = { xMin: 0, xMax: 1, yMin: 0, yMax: 1, label: 0, notes: null, score: null };
      const first = await store.setUserAnnotations(x!.id, [box, box]);
      expect(first.map((n) => n.key)).toEqual([1, 2]);
      // Replacing the boxes deletes the old rows: their keys are not reused.
      const second = await store.setUserAnnotations(x!.id, [box]);
      expect(second.map((n) => n.key)).toEqual([3]);
      const m = await store.createModel(model(a.id));
      const [assessed] = await store.addAssessments([assessment(x!.id, m.id), assessment(x!.id, m.id)]);
      const boxes = await store.annotationsByOwners('assessment', [assessed!.id]);
      expect(boxes.map((n) => n.key)).toEqual([4]);
      expect((await store.annotationsByOwners('user', [x!.id])).map((n) => [n.id, n.key])).toEqual(second.map((n) => [n.id, n.key]));

      // A restart continues after the last key, and a known parameter keeps its key on sync.
      store = await fx.reopen();
      expect((await store.createTarget('c', [])).key).toBe(3);
      await store.syncAlgorithms([
        {
          id: 'patchcore',
          name: 'PatchCore',
          version: '2',
          type: 'anomaly',
          attribute: 'unsupervised',
          description: 'memory bank',
          parameters: [
            { name: 'threshold', displayName: null, dataType: 'float', value: '0.4', rangeLower: '0', rangeUpper: '1', modelParameter: true },
            { name: 'stride', displayName: null, dataType: 'int', value: '2', rangeLower: '1', rangeUpper: '8', modelParameter: false },
          ],
        },
      ]);
      const synced = await store.parametersByAlgorithmIds(['patchcore']);
      expect(synced.map((p) => [p.name, p.key])).toEqual([
        ['threshold', 2],
        ['stride', 3],
      ]);
      expect((await store.setUserAnnotations(x!.id, [box]))[0]!.key).toBe(6);
    });
  });

  describe('concurrent writers', () => {
    it('keep one default target, one active model per target and the first stored setting', async () => {
      const created = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => store.createTarget(name, [])));
      expect(created.filter((t) => t.isDefault)).toHaveLength(1);
      expect(new Set(created.map((t) => t.key)).size).toBe(5);
      await Promise.all(created.map((t) => store.setDefaultTarget(t.id)));
      expect((await store.listTargets()).filter((t) => t.isDefault)).toHaveLength(1);

      await algorithm();
      const target = created[0]!;
      const models = await Promise.all(Array.from({ length: 5 }, () => store.createModel(model(target.id))));
      await Promise.all(models.map((m) => store.activateModel(m.id)));
      const active = (await store.modelsByIds(models.map((m) => m.id))).filter((m) => m.active);
      expect(active).toHaveLength(1);
      expect((await store.activeModel(target.id))?.id).toBe(active[0]!.id);

      const values = await Promise.all(['v1', 'v2', 'v3'].map((v) => store.initSetting('secret', v)));
      expect(new Set(values).size).toBe(1);
      expect(await store.getSetting('secret')).toBe(values[0]);
    });
  });

  describe('read counters', () => {
    it('counts one read per batch query whatever the number of keys', async () => {
      const t = await store.createTarget('t', []);
      const items = await store.addItems(Array.from({ length: 100 }, (_, i) => item(t.id, `i${i}`, [])));
      const ids = items.map((i) => i.id);
      for (const n of [1, 100]) {
        const before = store.stats.reads;
        expect(await store.itemsByIds(ids.slice(0, n))).toHaveLength(n);
        await store.imagesByOwners('item', ids.slice(0, n));
        await store.assessmentsByItemIds(ids.slice(0, n));
        await store.annotationsByOwners('user', ids.slice(0, n));
        expect(store.stats.reads - before).toBe(4);
      }
      const before = { ...store.stats };
      await store.listItems({ type: 'TRAINING' }, { first: 100 });
      expect(store.stats.reads - before.reads).toBe(2); // count + page
      // One INSERT per table whatever the number of rows: two items with three images, or twenty with thirty.
      for (const n of [1, 10]) {
        const batch = [];
        for (let i = 0; i < n; i++) {
          batch.push(item(t.id, `a${i}`, [await image(`${n}-${i}-1`), await image(`${n}-${i}-2`)]), item(t.id, `b${i}`, [await image(`${n}-${i}-3`)]));
        }
        const w = store.stats.writes;
        await store.addItems(batch);
        expect(store.stats.writes - w).toBe(2);
      }
    });
  });

  describe('blob store', () => {
    it('stores content by sha256, once, from bytes or a staged file, and refuses malformed keys', async () => {
      const key = await store.blobs.put(Buffer.from('abc'));
      expect(key).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      expect(store.blobs.path(key)).toBe(path.join(dir, 'blobs', 'ba', key.slice(2)));
      expect(await store.blobs.put(Buffer.from('abc'))).toBe(key);
      const staged = path.join(store.blobs.tmpDir, 'staged');
      fs.writeFileSync(staged, 'abc');
      expect(await store.blobs.putFile(staged)).toEqual({ key, size: 3, created: false });
      expect(fs.existsSync(staged)).toBe(false);
      fs.writeFileSync(staged, 'xyz');
      const put = await store.blobs.putFile(staged);
      expect(put.created).toBe(true);
      expect((await store.blobs.get(put.key)).toString()).toBe('xyz');
      expect(blobFiles()).toBe(2);
      expect(() => store.blobs.path('../../etc/passwd')).toThrow();
      expect(await store.blobs.has('../x')).toBe(false);
      expect(await store.blobs.delete(put.key)).toBe(true);
      expect(await store.blobs.delete(put.key)).toBe(false);
    });
  });
});
