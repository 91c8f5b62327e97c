import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rasteriseRegions } from '../src/runtime/images/regions.ts';
import { maskMap } from '../src/runtime/inference/regions.ts';
import { readModelArchive } from '../src/runtime/models/archive.ts';
import type { Region } from '../src/runtime/store/types.ts';
import { createGoldenModel, partPng } from './inference-fixtures.ts';
import { addPredictionItems, seedGoldenModel, startServer, type TestServer } from './predict-server.ts';
import { ENGINES } from './store-engines.ts';

// The golden model judges 128 px pictures on a 16 x 16 map (8 x 8 picture pixels a cell), with
// threshold 0.1; partPng's defect is black (map ~0.7 there), everything else 0.

/** partPng with a faint defect: `delta` grey levels darker over 16 x 16 px at (48, 48). */
async function faintPng(delta: number): Promise<Buffer> {
  const { data, info } = await sharp(await partPng())
    .raw()
    .toBuffer({ resolveWithObject: true });
  const c = info.channels;
  for (let y = 48; y < 64; y++) for (let x = 48; x < 64; x++) for (let k = 0; k < c; k++) data[(y * 128 + x) * c + k]! -= delta;
  return sharp(data, { raw: { width: 128, height: 128, channels: c } })
    .png()
    .toBuffer();
}

const square = (x0: number, y0: number, x1: number, y1: number) => [
  { x: x0, y: y0 },
  { x: x1, y: y0 },
  { x: x1, y: y1 },
  { x: x0, y: y1 },
];
const WHOLE = square(0, 0, 1, 1);
/** Around the defect at (90..104, 90..104) px of 128. */
const AROUND_DEFECT = square(0.6, 0.6, 0.9, 0.9);

const region = (mode: Region['mode'], points: [number, number][], sensitivity = 1): Region => ({ mode, points, sensitivity, label: null });

describe('regions on the anomaly map', () => {
  it('rasterises by cell centre: include regions limit, later ones win, excludes win whatever the order', () => {
    const gain = rasteriseRegions(
      [
        region('EXCLUDE', [
          [0, 0],
          [0.5, 0],
          [0.5, 0.5],
          [0, 0.5],
        ]),
        region(
          'INCLUDE',
          [
            [0, 0],
            [1, 0],
            [1, 0.5],
            [0, 0.5],
          ],
          2,
        ),
        region(
          'INCLUDE',
          [
            [0.75, 0],
            [1, 0],
            [1, 0.25],
            [0.75, 0.25],
          ],
          3,
        ),
      ],
      4,
      4,
    );
    expect([...gain]).toEqual([0, 0, 2, 3, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
    // a triangle: the cells whose centre lies under the diagonal
    expect([
      ...rasteriseRegions(
        [
          region('INCLUDE', [
            [0, 0],
            [1, 1],
            [0, 1],
          ]),
        ],
        2,
        2,
      ),
    ]).toEqual([0, 0, 1, 0]);
    // without an include region, everything not excluded is judged as is
    expect([
      ...rasteriseRegions(
        [
          region('EXCLUDE', [
            [0.5, 0.5],
            [1, 0.5],
            [1, 1],
            [0.5, 1],
          ]),
        ],
        2,
        2,
      ),
    ]).toEqual([1, 1, 1, 0]);
  });

  it('keeps a polygon smaller than a cell: it takes the cell under its middle', () => {
    expect([
      ...rasteriseRegions(
        [
          region('INCLUDE', [
            [0.6, 0.1],
            [0.7, 0.1],
            [0.65, 0.2],
          ]),
        ],
        2,
        2,
      ),
    ]).toEqual([0, 1, 0, 0]);
  });

  it('masks below the threshold and scores the judged cells only, scaled by their sensitivity', () => {
    const map = Float32Array.from([0.9, 0.05, 0.02, 0.04]);
    const { map: masked, score } = maskMap(map, Float32Array.from([0, 1, 2, 1]), 0.1);
    expect(score).toBeCloseTo(0.05, 6);
    expect(masked[0]).toBeLessThan(0.1);
    expect([...masked.slice(1)].map((v) => +v.toFixed(4))).toEqual([0.05, 0.04, 0.04]);
    // nothing judged at all: below the threshold everywhere, even where the map was not
    const none = maskMap(Float32Array.from([0.5, 0.5]), new Float32Array(2), 0.1);
    expect(Math.max(...none.map, none.score)).toBeLessThan(0.1);
  });
});

describe.each(ENGINES)('regions over GraphQL on %s', (engine) => {
  let ts: TestServer;
  let modelId: string;
  let targetId: string;

  const ASSESSMENT = 'result score detectedObjects annotations { xMin xMax yMin yMax } images { url }';
  const predict = async (png: Buffer, model = 'active') => {
    const res = await ts.upload(
      `mutation($m: ID!, $files: [File!]!) { predictImages(modelId: $m, files: $files) { ${ASSESSMENT} } }`,
      { m: model, files: [null] },
      { 'files.0': { name: 'part.png', body: png, type: 'image/png' } },
    );
    expect(res.errors).toBeUndefined();
    return res.data.predictImages[0];
  };
  const setRegions = async (owner: { targetId?: string; modelId?: string }, regions: unknown[]) =>
    ts.gql(
      `mutation($t: ID, $m: ID, $r: [RegionInput!]!) {
        setRegions(targetId: $t, modelId: $m, regions: $r) {
          inherited target { id } model { id } regions { mode sensitivity label points { x y } }
        }
      }`,
      { t: owner.targetId, m: owner.modelId, r: regions },
    );
  const ok = async (owner: { targetId?: string; modelId?: string }, regions: unknown[]) => {
    const res = await setRegions(owner, regions);
    expect(res.errors).toBeUndefined();
    return res.data.setRegions;
  };

  beforeAll(async () => {
    ts = await startServer({}, { engine });
    const seeded = await seedGoldenModel(ts);
    modelId = seeded.model.id;
    targetId = seeded.target.id;
  });
  afterAll(async () => {
    await ts?.stop();
  });

  it('judges a defect in an excluded region GOOD with no box, and its heatmap shows nothing there', async () => {
    await ok({ targetId }, []);
    const defect = await partPng({ defect: { x: 90, y: 90, size: 14 } });
    const before = await predict(defect);
    expect([before.result, before.detectedObjects]).toEqual(['BAD', 1]);

    const set = await ok({ targetId }, [{ mode: 'EXCLUDE', points: AROUND_DEFECT, label: 'label sticker' }]);
    expect(set).toEqual({
      inherited: false,
      target: { id: targetId },
      model: null,
      regions: [{ mode: 'EXCLUDE', sensitivity: 1, label: 'label sticker', points: AROUND_DEFECT }],
    });
    const after = await predict(defect);
    expect([after.result, after.detectedObjects, after.annotations]).toEqual(['GOOD', 0, []]);
    expect(after.score).toBeLessThan(0.1);

    // The overlay at the defect: red before, not after (masked the same way as the verdict).
    const pixel = async (url: string) => {
      const { data, info } = await sharp(Buffer.from(await (await fetch(url)).arrayBuffer()))
        .raw()
        .toBuffer({ resolveWithObject: true });
      const i = (97 * info.width + 97) * info.channels;
      return { r: data[i]!, b: data[i + 2]! };
    };
    const [hot, masked] = [await pixel(before.images[0].url), await pixel(after.images[0].url)];
    expect(hot.r).toBeGreaterThan(hot.b);
    expect(masked.r).toBeLessThan(hot.r - 50);
    expect(masked.b).toBeGreaterThan(masked.r);

    // a defect outside the excluded region still counts
    expect((await predict(await partPng({ defect: { x: 20, y: 20, size: 14 } }))).result).toBe('BAD');
  });

  it('applies to background predictions (requestPrediction) the same way', async () => {
    await ok({ targetId }, [{ mode: 'EXCLUDE', points: AROUND_DEFECT }]);
    const { store, pubsub } = ts.server.services;
    const pngs = [await partPng({ defect: { x: 90, y: 90, size: 14 } }), await partPng({ defect: { x: 20, y: 20, size: 14 } })];
    const ids = await addPredictionItems(ts, pngs, { targetId, prefix: 'bg' });
    const events = pubsub.subscribe('predictionResult', modelId);
    await events.ready;
    const job = await ts.gql(`mutation($ids: [ID!]!) { requestPrediction(modelId: "active", itemIds: $ids) { id } }`, { ids });
    expect(job.errors).toBeUndefined();
    const results = new Map<string, string>();
    for (let n = 0; n < ids.length; n++) {
      const ev = (await events.next()).value!;
      const [a] = await store.assessmentsByIds([ev.assessmentId]);
      results.set(ev.itemId, `${a!.result} ${a!.detectedObjects}`);
    }
    await events.return();
    expect(ids.map((id) => results.get(id))).toEqual(['GOOD 0', 'BAD 1']);
  });

  it('judges only included area: a defect inside an include region BAD with its box there, outside GOOD', async () => {
    await ok({ targetId }, [{ mode: 'INCLUDE', points: AROUND_DEFECT }]);
    const inside = await predict(await partPng({ defect: { x: 90, y: 90, size: 14 } }));
    expect([inside.result, inside.detectedObjects]).toEqual(['BAD', 1]);
    const box = inside.annotations[0];
    expect(box.xMin).toBeGreaterThanOrEqual(0.6 * 128 - 8);
    expect(box.xMax).toBeLessThanOrEqual(0.9 * 128 + 8);
    expect(box.xMin).toBeLessThanOrEqual(90);
    expect(box.xMax).toBeGreaterThanOrEqual(104);
    const outside = await predict(await partPng({ defect: { x: 20, y: 20, size: 14 } }));
    expect([outside.result, outside.detectedObjects]).toEqual(['GOOD', 0]);
  });

  it('changes the verdict with sensitivity: a faint defect found at 2, a strong one let through at 0.1', async () => {
    await ok({ targetId }, []);
    const faint = await faintPng(18);
    const plain = await predict(faint);
    expect(plain.result).toBe('GOOD');
    expect(plain.score).toBeGreaterThan(0.05);

    await ok({ targetId }, [{ mode: 'INCLUDE', points: WHOLE, sensitivity: 2 }]);
    const sharp2 = await predict(faint);
    expect([sharp2.result, sharp2.detectedObjects]).toEqual(['BAD', 1]);
    expect(sharp2.score).toBeCloseTo(plain.score * 2, 4);

    await ok({ targetId }, [{ mode: 'INCLUDE', points: WHOLE, sensitivity: 0.1 }]);
    expect((await predict(await partPng({ defect: { x: 90, y: 90, size: 14 } }))).result).toBe('GOOD');
  });

  it("lets a model's own regions override its target's, until they are reset", async () => {
    await ok({ targetId }, [{ mode: 'EXCLUDE', points: AROUND_DEFECT }]);
    const defect = await partPng({ defect: { x: 90, y: 90, size: 14 } });
    const read = async () =>
      (await ts.gql(`query($id: ID!) { model(id: $id) { regionsInherited regions { mode } target { regions { mode } } } }`, { id: modelId })).data.model;
    expect(await read()).toEqual({ regionsInherited: true, regions: [{ mode: 'EXCLUDE' }], target: { regions: [{ mode: 'EXCLUDE' }] } });

    // an empty list of its own: the model judges the whole picture
    const own = await ok({ modelId: 'active' }, []);
    expect(own).toMatchObject({ inherited: false, model: { id: modelId }, target: { id: targetId }, regions: [] });
    expect(await read()).toEqual({ regionsInherited: false, regions: [], target: { regions: [{ mode: 'EXCLUDE' }] } });
    expect((await predict(defect)).result).toBe('BAD');

    const reset = await ts.gql(`mutation($m: ID!) { resetModelRegions(modelId: $m) { inherited regions { mode } } }`, { m: modelId });
    expect(reset.data.resetModelRegions).toEqual({ inherited: true, regions: [{ mode: 'EXCLUDE' }] });
    expect((await predict(defect)).result).toBe('GOOD');
  });

  it('refuses bad polygons with a message naming the region and what is wrong, and keeps the regions it had', async () => {
    const kept = [{ mode: 'EXCLUDE', points: AROUND_DEFECT }];
    await ok({ targetId }, kept);
    const refused = async (owner: { targetId?: string; modelId?: string }, regions: unknown[], message: string) => {
      const res = await setRegions(owner, regions);
      expect(res.errors?.map((e: any) => [e.extensions.code, e.message])).toEqual([['BAD_USER_INPUT', message]]);
    };
    const tooMany = Array.from({ length: 201 }, (_, i) => ({ x: 0.5 + 0.4 * Math.cos(i / 32), y: 0.5 + 0.4 * Math.sin(i / 32) }));
    await refused(
      { targetId },
      [
        {
          mode: 'INCLUDE',
          points: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
        },
      ],
      'regions[0].points: a polygon needs at least 3 points, got 2',
    );
    await refused(
      { targetId },
      [
        ...kept,
        {
          mode: 'INCLUDE',
          points: [
            { x: 0, y: 0 },
            { x: 1.5, y: 0 },
            { x: 1, y: 1 },
          ],
        },
      ],
      "regions[1].points[1].x: must be within 0..1 (a fraction of the picture's width), got 1.5",
    );
    await refused(
      { targetId },
      [
        {
          mode: 'INCLUDE',
          points: [
            { x: 0, y: 0 },
            { x: 0.5, y: -0.1 },
            { x: 1, y: 1 },
          ],
        },
      ],
      "regions[0].points[1].y: must be within 0..1 (a fraction of the picture's height), got -0.1",
    );
    await refused({ targetId }, [{ mode: 'INCLUDE', points: tooMany }], 'regions[0].points: at most 200 points per polygon, got 201');
    await refused(
      { targetId },
      [
        {
          mode: 'INCLUDE',
          points: [
            { x: 0, y: 0 },
            { x: 0.5, y: 0.5 },
            { x: 1, y: 1 },
          ],
        },
      ],
      'regions[0].points: the polygon has no area (its points lie on one line)',
    );
    await refused({ targetId }, [{ mode: 'INCLUDE', points: WHOLE, sensitivity: 0 }], 'regions[0].sensitivity: must be within 0.1..10, got 0');
    await refused(
      { targetId },
      [{ mode: 'EXCLUDE', points: WHOLE, sensitivity: 2 }],
      'regions[0].sensitivity: an EXCLUDE region is never judged, so it takes no sensitivity (got 2)',
    );
    await refused(
      { targetId },
      Array.from({ length: 33 }, () => ({ mode: 'EXCLUDE', points: WHOLE })),
      'regions: at most 32 regions, got 33',
    );
    await refused({ targetId, modelId }, [], 'give either targetId or modelId: the regions belong to a target or to one of its models');
    await refused({}, [], 'give either targetId or modelId: the regions belong to a target or to one of its models');

    const unknown = await setRegions({ targetId: 'no-such-target' }, []);
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const now = await ts.gql(`query($id: ID!) { target(id: $id) { regions { mode points { x y } } } }`, { id: targetId });
    expect(now.data.target.regions).toEqual(kept);
  });

  it('goes with its model when the model is deleted', async () => {
    const { store } = ts.server.services;
    const other = await createGoldenModel(store, targetId);
    await ok({ modelId: other.id }, [{ mode: 'EXCLUDE', points: WHOLE }]);
    expect((await store.regionSetsByOwners([other.id])).map((r) => r.ownerKind)).toEqual(['model']);
    const del = await ts.gql(`mutation($ids: [ID!]!) { deleteModels(ids: $ids) }`, { ids: [other.id] });
    expect(del.data.deleteModels).toEqual([other.id]);
    expect(await store.regionSetsByOwners([other.id])).toEqual([]);
    expect((await setRegions({ modelId: other.id }, [])).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('is changed only with scope "all"', async () => {
    const { clientId, clientSecret } = await ts.server.services.auth.createClient('read', 'regions-reader');
    const { accessToken } = await ts.server.services.auth.issueToken(clientId, clientSecret);
    const res = await fetch(`${ts.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}`, 'x-graphql-yoga-csrf': '1' },
      body: JSON.stringify({ query: `mutation($t: ID) { setRegions(targetId: $t, regions: []) { inherited } }`, variables: { t: targetId } }),
    });
    expect(((await res.json()) as any).errors[0].extensions.code).toBe('FORBIDDEN');
  });
});

describe('regions in model archives', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    [a, b] = await Promise.all([startServer(), startServer()]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const exportZip = async (ts: TestServer, id: string) => {
    const exp = await ts.gql(`mutation($ids: [ID!]!) { exportModels(ids: $ids) { url } }`, { ids: [id] });
    return Buffer.from(await (await fetch(exp.data.exportModels.url)).arrayBuffer());
  };
  const importZip = async (ts: TestServer, zip: Buffer) => {
    const imp = await ts.upload(
      `mutation($file: File!) { importModels(file: $file) { id regionsInherited regions { mode sensitivity points { x y } } } }`,
      { file: null },
      { file: { name: 'models.zip', body: zip, type: 'application/zip' } },
    );
    expect(imp.errors).toBeUndefined();
    return imp.data.importModels[0];
  };

  it('carries the regions a model judges with, and imports one without them as before', async () => {
    const { model, target } = await seedGoldenModel(a);
    const plain = await exportZip(a, model.id);
    expect((await readModelArchive(plain))[0]!.manifest).not.toHaveProperty('regions');

    const regions = [
      { mode: 'INCLUDE', points: WHOLE, sensitivity: 1.5 },
      { mode: 'EXCLUDE', points: AROUND_DEFECT },
    ];
    const set = await a.gql(`mutation($t: ID, $r: [RegionInput!]!) { setRegions(targetId: $t, regions: $r) { inherited } }`, { t: target.id, r: regions });
    expect(set.errors).toBeUndefined();
    const withRegions = await exportZip(a, model.id);
    expect((await readModelArchive(withRegions))[0]!.manifest.regions).toEqual([
      {
        mode: 'INCLUDE',
        points: [
          [0, 0],
          [1, 0],
          [1, 1],
          [0, 1],
        ],
        sensitivity: 1.5,
        label: null,
      },
      {
        mode: 'EXCLUDE',
        points: [
          [0.6, 0.6],
          [0.9, 0.6],
          [0.9, 0.9],
          [0.6, 0.9],
        ],
        sensitivity: 1,
        label: null,
      },
    ]);

    const imported = await importZip(b, withRegions);
    expect(imported).toMatchObject({
      regionsInherited: false,
      regions: [
        { mode: 'INCLUDE', sensitivity: 1.5 },
        { mode: 'EXCLUDE', sensitivity: 1 },
      ],
    });
    const judged = await b.upload(
      `mutation($m: ID!, $files: [File!]!) { predictImages(modelId: $m, files: $files) { result } }`,
      { m: imported.id, files: [null] },
      { 'files.0': { name: 'p.png', body: await partPng({ defect: { x: 90, y: 90, size: 14 } }), type: 'image/png' } },
    );
    expect(judged.data.predictImages[0].result).toBe('GOOD');

    const older = await importZip(b, plain);
    expect(older).toEqual({ id: expect.any(String), regionsInherited: true, regions: [] });
  });
});
