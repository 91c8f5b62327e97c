import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partPng } from './inference-fixtures.ts';
import { until } from './realtime-helpers.ts';
import { addPredictionItems, seedGoldenModel, startServer, type TestServer } from './predict-server.ts';
import { newModel } from './model-fixtures.ts';
import { ENGINES } from './store-engines.ts';

const ASSESSMENT = `id result score threshold detectedObjects detectionAccuracy
  item { id name } model { id }
  annotations { xMin xMax yMin yMax score }
  images { url width height contentType }`;

describe.each(ENGINES)('predict over GraphQL on %s', (engine) => {
  let ts: TestServer;
  let modelId: string;
  const addItems = (pngs: Buffer[]) => addPredictionItems(ts, pngs);

  beforeAll(async () => {
    ts = await startServer({}, { engine });
    modelId = (await seedGoldenModel(ts)).model.id;
  });
  afterAll(async () => {
    await ts?.stop();
  });

  it('predicts with the active model: BAD with a box and a heatmap that loads, GOOD for a clean part', async () => {
    const [clean, bad] = await addItems([await partPng(), await partPng({ defect: { x: 90, y: 90, size: 14 } })]);
    const res = await ts.gql(`mutation($ids: [ID!]!) { predict(modelId: "active", itemIds: $ids) { ${ASSESSMENT} } }`, { ids: [clean, bad] });
    expect(res.errors).toBeUndefined();
    const [a, b] = res.data.predict;
    expect([a.item.id, a.result, a.detectedObjects]).toEqual([clean, 'GOOD', 0]);
    expect([b.item.id, b.result, b.model.id]).toEqual([bad, 'BAD', modelId]);
    expect(b.annotations).toHaveLength(1);
    const box = b.annotations[0];
    expect(box.xMin).toBeLessThanOrEqual(90);
    expect(box.xMax).toBeGreaterThanOrEqual(104);
    expect(b.images).toHaveLength(1);
    const img = await fetch(b.images[0].url);
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(Buffer.from(await img.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', b.images[0].width, b.images[0].height]);
  });

  it('judges later predictions by updated predict parameters', async () => {
    const [bad] = await addItems([await partPng({ defect: { x: 30, y: 30, size: 10 } })]);
    const q = `mutation($ids: [ID!]!) { predict(modelId: "${modelId}", itemIds: $ids) { result score threshold } }`;
    const before = (await ts.gql(q, { ids: [bad] })).data.predict[0];
    expect(before.result).toBe('BAD');
    const upd = await ts.gql(`mutation($t: Float!) { updatePredictParameters(modelId: "${modelId}", threshold: $t) { predictParameters { threshold } } }`, {
      t: before.score + 0.05,
    });
    expect(upd.errors).toBeUndefined();
    const after = (await ts.gql(q, { ids: [bad] })).data.predict[0];
    expect(after.result).toBe('GOOD');
    expect(after.threshold).toBeCloseTo(before.score + 0.05, 6);
    await ts.gql(`mutation { updatePredictParameters(modelId: "${modelId}", threshold: 0.1) { id } }`);
  });

  it('uploads and predicts in one request', async () => {
    const res = await ts.upload(
      `mutation($files: [File!]!) { predictImages(modelId: "active", files: $files) { result item { name } } }`,
      { files: [null] },
      { 'files.0': { name: 'upload.png', body: await partPng({ defect: { x: 10, y: 60, size: 16 } }), type: 'image/png' } },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.predictImages).toEqual([{ result: 'BAD', item: { name: 'upload.png' } }]);
  });

  it('runs requestPrediction in the background and publishes each stored result', async () => {
    const ids = await addItems([await partPng(), await partPng({ defect: { x: 50, y: 50, size: 12 } })]);
    const { pubsub, store } = ts.server.services;
    const events = pubsub.subscribe('predictionResult', modelId);
    await events.ready;
    const res = await ts.gql(`mutation($ids: [ID!]!) { requestPrediction(modelId: "active", itemIds: $ids) { id modelId itemIds modelVersion } }`, { ids });
    expect(res.errors).toBeUndefined();
    expect(res.data.requestPrediction).toMatchObject({ modelId, itemIds: ids, modelVersion: '1' });
    const got = [(await events.next()).value, (await events.next()).value];
    await events.return();
    expect(got.map((e) => e.itemId).sort()).toEqual([...ids].sort());
    // Published only once stored.
    const stored = await store.assessmentsByIds(got.map((e) => e.assessmentId));
    expect(stored).toHaveLength(2);
  });

  it('streams a background prediction result by result; predictionJob tells its status, progress, counts and errors', async () => {
    const pictures = await Promise.all(Array.from({ length: 40 }, (_, i) => partPng(i % 4 === 0 ? { defect: { x: 20 + i, y: 50, size: 12 } } : {})));
    const ids = await addItems([...pictures, Buffer.from('not a picture at all')]);
    const { pubsub } = ts.server.services;
    const events = pubsub.subscribe('predictionResult', modelId);
    await events.ready;
    const JOB = 'status statusText progress attempts counts { total judged good bad failed } errors { itemId message } finishedAt';
    const res = await ts.gql(`mutation($ids: [ID!]!) { requestPrediction(modelId: "active", itemIds: $ids) { id ${JOB} } }`, { ids });
    expect(res.errors).toBeUndefined();
    const jobId = res.data.requestPrediction.id as string;
    expect(res.data.requestPrediction.counts.total).toBe(41);
    // The first result arrives while the job still runs: results are not held back to the end.
    await events.next();
    const early = (await ts.gql(`{ predictionJob(id: "${jobId}") { ${JOB} } }`)).data.predictionJob;
    expect(early.status).toBe('RUNNING');
    expect(early.counts.judged).toBeGreaterThan(0);
    expect(early.counts.judged).toBeLessThan(40);
    for (let n = 1; n < 40; n++) await events.next();
    await events.return();
    await until(async () => (await ts.server.services.predictions.jobs([jobId]))[0]!.status === 'DONE', 10_000, 'the job to end');
    const end = (await ts.gql(`{ predictionJob(id: "${jobId}") { ${JOB} } }`)).data.predictionJob;
    expect(end).toMatchObject({ status: 'DONE', progress: 1, attempts: 1, counts: { total: 41, judged: 40, good: 30, bad: 10, failed: 1 } });
    expect(end.statusText).toBe('1 of 41 pictures could not be judged');
    expect(end.errors).toEqual([{ itemId: ids[40], message: expect.stringMatching(/could not be judged/) }]);
    expect(end.finishedAt).toBeTruthy();
    expect((await ts.gql(`{ predictionJob(id: "nope") { id } }`)).data.predictionJob).toBeNull();
    const again = await ts.gql(`mutation { cancelPredictionJob(id: "${jobId}") { id } }`);
    expect(again.errors![0].extensions.code).toBe('CONFLICT');
  });

  it('refuses a model that is not READY, unknown items and an item listed twice', async () => {
    const { store } = ts.server.services;
    const training = await store.createModel(
      newModel({
        name: 'busy',
        algorithmId: 'golden-test',
        targetId: (await store.defaultTarget())!.id,
        status: 'TRAINING',
        predictParameters: { threshold: 1, ignoreOuter: 0, minDetectedArea: 0 },
        okImageCount: 0,
      }),
    );
    const [item] = await addItems([await partPng()]);
    const busy = await ts.gql(`mutation { predict(modelId: "${training.id}", itemIds: ["${item}"]) { id } }`);
    expect(busy.errors![0].extensions.code, JSON.stringify(busy.errors)).toBe('CONFLICT');
    const missing = await ts.gql(`mutation { predict(modelId: "active", itemIds: ["nope"]) { id } }`);
    expect(missing.errors![0].extensions.code).toBe('NOT_FOUND');
    // the answer lines up with itemIds: a repeated id would shift every later result
    const twice = await ts.gql(`mutation { predict(modelId: "active", itemIds: ["${item}", "${item}"]) { id } }`);
    expect(twice.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'itemIds', id: item });
  });

  it('exports the results as CSV', async () => {
    const res = await ts.gql(`mutation { exportModelResults(modelIds: ["active"]) { url expiresAt } }`);
    expect(res.errors).toBeUndefined();
    const csv = await (await fetch(res.data.exportModelResults.url)).text();
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe(
      'model_id,model_name,model_version,assessment_id,item_id,item_name,result,score,threshold,detected_objects,detection_accuracy,label,boxes,created_at',
    );
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.slice(1).every((l) => l.startsWith(`${modelId},golden,1,`))).toBe(true);
    expect(lines.some((l) => l.includes(',BAD,'))).toBe(true);
  });
});
