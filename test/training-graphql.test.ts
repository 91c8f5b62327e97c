import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Category, type DefectSpec, generateImage, toPng } from '../bench/synthetic.ts';
import { type Gateway, startGateway, uploadItems } from './graph-helpers.ts';
import { ENGINES } from './store-engines.ts';

// Upload, train, predict over GraphQL: the flow every deployment runs, on both engines.
describe.each(ENGINES)('on %s', (engine) => {
  let gw: Gateway;
  let baseUrl: string;
  let token: string;
  let targetId: string;

  /** Generated pictures uploaded as a client does (multipart, over the socket). */
  async function addItems(category: Category, seeds: number[], type: 'TRAINING' | 'PREDICTION', defect: DefectSpec | null = null) {
    const files = await Promise.all(
      seeds.map(async (seed) => ({ name: `${seed}.png`, bytes: await toPng(generateImage(category, { seed, size: 96, defect })) })),
    );
    return uploadItems(baseUrl, token, files, { training: type === 'TRAINING', good: type === 'TRAINING' ? true : null, targetId });
  }

  async function waitReady(id: string) {
    for (;;) {
      const r = await gw.gql<{ model: { status: string; statusText: string | null } }>(
        'query ($id: ID!) { model(id: $id) { status statusText } }',
        { id },
        token,
      );
      const s = r.data!.model.status;
      if (s !== 'QUEUED' && s !== 'TRAINING') return r.data!.model;
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  beforeAll(async () => {
    gw = await startGateway({}, { engine });
    ({ url: baseUrl } = await gw.server.start());
    token = await gw.token('all');
    const t = await gw.gql<{ createTarget: { id: string } }>('mutation { createTarget(name: "parts") { id } }', {}, token);
    targetId = t.data!.createTarget.id;
    await addItems('plate', [1, 2, 3, 4, 5, 6, 7, 8], 'TRAINING');
  });
  afterAll(async () => {
    await gw?.close();
  });

  describe('trainModel / cancelTraining over GraphQL', () => {
    it('lists the algorithms with their parameters', async () => {
      const r = await gw.gql<{ algorithms: { id: string; parameters: { name: string; dataType: string; modelParameter: boolean }[] }[] }>(
        '{ algorithms { id name parameters { name dataType value rangeLower rangeUpper modelParameter } } }',
        {},
        token,
      );
      const ids = r.data!.algorithms.map((a) => a.id);
      expect(ids).toEqual(expect.arrayContaining(['reconstructor', 'pattern-matching', 'patch-sample']));
      const pm = r.data!.algorithms.find((a) => a.id === 'pattern-matching')!;
      expect(pm.parameters.find((p) => p.name === 'threshold')!.modelParameter).toBe(true);
    });

    it('trains without a named algorithm: the automatic choice keeps one and says which and why', async () => {
      const r = await gw.gql<{ trainModel: { id: string; algorithm: { id: string } } }>(
        'mutation ($t: ID) { trainModel(targetId: $t, overrideParams: [{ name: "input_size", value: "64" }]) { id algorithm { id } } }',
        { t: targetId },
        token,
      );
      expect(r.errors).toBeUndefined();
      expect(r.data!.trainModel.algorithm.id).toBe('auto');
      const id = r.data!.trainModel.id;
      expect((await waitReady(id)).status).toBe('READY');
      const m = await gw.gql<{ model: { statusText: string; algorithm: { id: string }; stats: { method: string } } }>(
        'query ($id: ID!) { model(id: $id) { statusText algorithm { id } stats { method } } }',
        { id },
        token,
      );
      // plate pictures are of an aligned part: both candidates were trained and one kept
      expect(['aligned-patch', 'patch-sample']).toContain(m.data!.model.algorithm.id);
      expect(m.data!.model.statusText).toMatch(/^automatic choice: .*look aligned.*Aligned Patch Inspection [\d.]+.*Patch Sample Inspection [\d.]+/);
      expect(m.data!.model.stats.method).toContain(m.data!.model.statusText);
    });

    it('trains a model that judges a defective part BAD with a box on it and a clean one GOOD', async () => {
      const r = await gw.gql<{ trainModel: { id: string; status: string } }>(
        'mutation ($t: ID) { trainModel(algorithmId: "pattern-matching", targetId: $t, overrideParams: [{ name: "input_size", value: "96" }]) { id status } }',
        { t: targetId },
        token,
      );
      expect(r.errors).toBeUndefined();
      expect(['QUEUED', 'TRAINING']).toContain(r.data!.trainModel.status);
      const id = r.data!.trainModel.id;
      expect((await waitReady(id)).status).toBe('READY');

      const [clean] = await addItems('plate', [500], 'PREDICTION');
      const [bad] = await addItems('plate', [501], 'PREDICTION', { kind: 'spot', size: 'large', contrast: 'high' });
      const truth = generateImage('plate', { seed: 501, size: 96, defect: { kind: 'spot', size: 'large', contrast: 'high' } }).defects[0]!.box;
      const p = await gw.gql<{
        predict: { result: string; score: number; threshold: number; annotations: { xMin: number; xMax: number; yMin: number; yMax: number }[] }[];
      }>(
        'mutation ($m: ID!, $i: [ID!]!) { predict(modelId: $m, itemIds: $i) { result score threshold annotations { xMin xMax yMin yMax } } }',
        { m: id, i: [clean!.id, bad!.id] },
        token,
      );
      expect(p.errors).toBeUndefined();
      const [good, defect] = p.data!.predict;
      expect(good!.result).toBe('GOOD');
      expect(defect!.result).toBe('BAD');
      expect(defect!.score).toBeGreaterThan(defect!.threshold);
      const box = defect!.annotations[0]!;
      const cx = (truth.xMin + truth.xMax) / 2;
      const cy = (truth.yMin + truth.yMax) / 2;
      expect(cx).toBeGreaterThanOrEqual(box.xMin);
      expect(cx).toBeLessThanOrEqual(box.xMax);
      expect(cy).toBeGreaterThanOrEqual(box.yMin);
      expect(cy).toBeLessThanOrEqual(box.yMax);

      // what it catches: synthetic defects in held-out pictures, read at its threshold and at others
      type Reading = { kind: string; size: number; contrast: number; tested: number; caught: number; rate: number };
      const s = await gw.gql<{ model: { stats: { shipped: Reading[]; none: Reading[]; all: Reading[] } } }>(
        `query ($id: ID!) { model(id: $id) { stats {
          shipped: sensitivity { kind size contrast tested caught rate }
          none: sensitivity(threshold: 1e9) { kind size contrast tested caught rate }
          all: sensitivity(threshold: -1e9) { kind size contrast tested caught rate } } } }`,
        { id },
        token,
      );
      expect(s.errors).toBeUndefined();
      const { shipped, none, all } = s.data!.model.stats;
      expect(shipped.map((r) => `${r.kind} ${r.size} ${r.contrast}`)).toEqual([
        ...[0.3, 1, 3].flatMap((size) => [1, 2, 4].map((c) => `SPOT ${size} ${c}`)),
        'LINE 25 1',
        'LINE 25 2',
        'LINE 25 4',
      ]);
      for (const r of shipped) expect(r.tested).toBeGreaterThanOrEqual(3);
      expect(none.every((r) => r.caught === 0 && r.rate === 0)).toBe(true);
      expect(all.every((r) => r.caught === r.tested && r.rate === 1)).toBe(true);
      // the plain plate shows every probe plainly: at least the large obvious spot is caught
      expect(shipped.find((r) => r.kind === 'SPOT' && r.size === 3 && r.contrast === 4)!.rate).toBeGreaterThanOrEqual(2 / 3);
    });

    it("refuses a picture far from the training pictures' shape instead of stretching it into a verdict, keeping nothing of the call", async () => {
      const trained = await gw.gql<{ models: { edges: { node: { id: string; status: string } }[] } }>(
        'query ($t: ID) { models(targetId: $t, status: READY, first: 1) { edges { node { id status } } } }',
        { t: targetId },
        token,
      );
      const modelId = trained.data!.models.edges[0]!.node.id;
      const predictions = async () =>
        (await gw.gql<{ items: { totalCount: number } }>('query ($t: ID) { items(type: PREDICTION, targetId: $t) { totalCount } }', { t: targetId }, token))
          .data!.items.totalCount;
      const before = await predictions();
      // a 2000 x 20 strip for a model of 96 x 96 parts; then an 8 x 8 thumbnail
      const strip = await sharp({ create: { width: 2000, height: 20, channels: 3, background: { r: 90, g: 90, b: 90 } } })
        .png()
        .toBuffer();
      const thumb = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 90, g: 90, b: 90 } } })
        .png()
        .toBuffer();
      const part = await toPng(generateImage('plate', { seed: 502, size: 96, defect: null }));
      for (const [name, bytes, why] of [
        [
          'strip.png',
          strip,
          /picture "strip\.png" \(2000x20, width\/height 100\) is too unlike in shape to be judged: the model learnt from pictures of width\/height 1\.00/,
        ],
        ['thumb.png', thumb, /picture "thumb\.png" \(8x8\) is too small to be judged: .* at least 96 px on the shorter side/],
      ] as const) {
        const form = new FormData();
        form.set(
          'operations',
          JSON.stringify({
            query: 'mutation ($m: ID!, $f: [File!]!) { predictImages(modelId: $m, files: $f) { id } }',
            variables: { m: modelId, f: [null, null] },
          }),
        );
        form.set('map', JSON.stringify({ 0: ['variables.f.0'], 1: ['variables.f.1'] }));
        form.set('0', new Blob([new Uint8Array(part)], { type: 'image/png' }), 'part.png');
        form.set('1', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), name);
        const res = await (await fetch(`${baseUrl}/graphql`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } })).json();
        expect(res.errors[0].extensions.code).toBe('BAD_USER_INPUT');
        expect(res.errors[0].message).toMatch(why);
      }
      // the call did nothing: not even the good part's picture stays behind
      expect(await predictions()).toBe(before);
    });

    it('refuses an override outside its range with BAD_USER_INPUT, and a read-only token', async () => {
      const r = await gw.gql(
        'mutation ($t: ID) { trainModel(algorithmId: "reconstructor", targetId: $t, overrideParams: [{ name: "n_components", value: "0" }]) { id } }',
        { t: targetId },
        token,
      );
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(r.errors?.[0]?.message).toMatch(/n_components must be at least 1/);
      const ro = await gw.gql('mutation { trainModel(algorithmId: "reconstructor") { id } }', {}, await gw.token('read'));
      expect(ro.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });

    it('cancelTraining ends a job CANCELLED; a finished model cannot be cancelled', async () => {
      const r = await gw.gql<{ trainModel: { id: string } }>(
        'mutation ($t: ID) { trainModel(algorithmId: "patch-sample", targetId: $t) { id } }',
        { t: targetId },
        token,
      );
      const id = r.data!.trainModel.id;
      const c = await gw.gql<{ cancelTraining: { status: string } }>('mutation ($id: ID!) { cancelTraining(modelId: $id) { status } }', { id }, token);
      expect(c.data!.cancelTraining.status).toBe('CANCELLED');
      const again = await gw.gql('mutation ($id: ID!) { cancelTraining(modelId: $id) { status } }', { id }, token);
      expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    });
  });
});
