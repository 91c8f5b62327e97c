import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partPng } from './inference-fixtures.ts';
import { scrape } from './metrics-helpers.ts';
import { addPredictionItems, seedGoldenModel, startServer, type TestServer } from './predict-server.ts';

/**
 * DECODE_INLINE: a lone whole picture is decoded on the pipeline worker when the decode pool is
 * idle (two thread hops fewer at concurrency 1). The verdict, boxes and heatmap must be exactly
 * those of the pool path: both servers judge the same pictures with the same model.
 */
const JUDGED = `result score threshold detectedObjects annotations { xMin xMax yMin yMax score } images { url width height }`;

describe('decoding a lone picture on the pipeline worker (DECODE_INLINE)', () => {
  let inline: TestServer;
  let pooled: TestServer;
  const pictures: Buffer[] = [];

  const addItems = (ts: TestServer) => addPredictionItems(ts, pictures);

  /** Each item on its own, one after the other (concurrency 1), with its heatmap's bytes. */
  const judgeOneByOne = async (ts: TestServer, ids: string[]) => {
    const out = [];
    for (const id of ids) {
      const res = await ts.gql(`mutation($ids: [ID!]!) { predict(modelId: "active", itemIds: $ids) { ${JUDGED} } }`, { ids: [id] });
      expect(res.errors).toBeUndefined();
      const { images, ...verdict } = res.data.predict[0];
      const heatmap = Buffer.from(await (await fetch(images[0].url)).arrayBuffer());
      out.push({ verdict, size: [images[0].width, images[0].height], heatmap: heatmap.toString('base64') });
    }
    return out;
  };

  beforeAll(async () => {
    pictures.push(await partPng(), await partPng({ defect: { x: 90, y: 90, size: 14 } }), await partPng({ defect: { x: 30, y: 60, size: 10 } }));
    [inline, pooled] = await Promise.all([startServer({ DECODE_INLINE: 'on' }), startServer({ DECODE_INLINE: 'off' })]);
    await Promise.all([seedGoldenModel(inline), seedGoldenModel(pooled)]);
  });
  afterAll(async () => {
    await Promise.all([inline?.stop(), pooled?.stop()]);
  });

  it('judges a lone picture inline with the same verdict, boxes and heatmap as the pool', async () => {
    const a = await judgeOneByOne(inline, await addItems(inline));
    const b = await judgeOneByOne(pooled, await addItems(pooled));
    expect(a.map((x) => x.verdict.result)).toEqual(['GOOD', 'BAD', 'BAD']);
    expect(a).toEqual(b);

    const onInline = await scrape(inline.url);
    expect(onInline.get('spectro_inference_decodes_total', { thread: 'inline' })).toBeGreaterThanOrEqual(pictures.length);
    const onPool = await scrape(pooled.url);
    expect(onPool.get('spectro_inference_decodes_total', { thread: 'inline' })).toBe(0);
    expect(onPool.get('spectro_inference_decodes_total', { thread: 'pool' })).toBeGreaterThanOrEqual(pictures.length);
  });

  it('sends the pictures of a burst to the pool while one decodes inline', async () => {
    const before = await scrape(inline.url);
    const ids = [...(await addItems(inline)), ...(await addItems(inline))];
    const res = await inline.gql(`mutation($ids: [ID!]!) { predict(modelId: "active", itemIds: $ids) { result } }`, { ids });
    expect(res.errors).toBeUndefined();
    expect(res.data.predict.map((p: { result: string }) => p.result)).toEqual(['GOOD', 'BAD', 'BAD', 'GOOD', 'BAD', 'BAD']);
    const after = await scrape(inline.url);
    const pool = after.get('spectro_inference_decodes_total', { thread: 'pool' }) - before.get('spectro_inference_decodes_total', { thread: 'pool' });
    const inl = after.get('spectro_inference_decodes_total', { thread: 'inline' }) - before.get('spectro_inference_decodes_total', { thread: 'inline' });
    expect(pool + inl).toBe(ids.length);
    expect(pool).toBeGreaterThan(0);
  });
});
