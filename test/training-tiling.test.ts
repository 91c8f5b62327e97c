import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImage, toPng } from '../bench/synthetic.ts';
import { type Gateway, startGateway, uploadItems } from './graph-helpers.ts';

/*
 * Camera-size pictures through the whole flow: a model trained on 768 px pictures with a 64 px
 * input is cut into tiles automatically (a copy of long side 256), learns and judges at that
 * resolution, and finds a 14 px speck (0.03 % of the picture) far above its threshold, where the
 * same model judging whole shrunk pictures (tile_long_side = 64: a 1.2 px speck) barely tells it
 * from the texture. Boxes are in the original picture's pixels.
 */
const SIZE = 768;
const SPECK = { x: 500, y: 180, size: 14 };

async function picture(seed: number, speck = false): Promise<Uint8Array> {
  const png = await toPng(generateImage('carpet', { seed, size: SIZE }));
  if (!speck) return png;
  const dark = await sharp({ create: { width: SPECK.size, height: SPECK.size, channels: 3, background: { r: 40, g: 40, b: 40 } } })
    .png()
    .toBuffer();
  return sharp(png)
    .composite([{ input: dark, left: SPECK.x, top: SPECK.y }])
    .png()
    .toBuffer();
}

let gw: Gateway;
let baseUrl: string;
let token: string;
let targetId: string;

async function train(overrides: { name: string; value: string }[]) {
  const r = await gw.gql<{ trainModel: { id: string } }>(
    'mutation ($t: ID, $o: [OverrideParamInput!]) { trainModel(algorithmId: "patch-sample", targetId: $t, overrideParams: $o) { id } }',
    { t: targetId, o: [{ name: 'input_size', value: '64' }, { name: 'num_features', value: '40' }, ...overrides] },
    token,
  );
  expect(r.errors).toBeUndefined();
  const id = r.data!.trainModel.id;
  for (;;) {
    const m = await gw.gql<{ model: { status: string; statusText: string | null; stats: { method: string } | null } }>(
      'query ($id: ID!) { model(id: $id) { status statusText stats { method } } }',
      { id },
      token,
    );
    const s = m.data!.model;
    if (s.status !== 'QUEUED' && s.status !== 'TRAINING') {
      expect(s.status, s.statusText ?? '').toBe('READY');
      return { id, method: s.stats!.method };
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function judge(modelId: string, itemIds: string[]) {
  const p = await gw.gql<{
    predict: { result: string; score: number; threshold: number; annotations: { xMin: number; xMax: number; yMin: number; yMax: number }[] }[];
  }>(
    'mutation ($m: ID!, $i: [ID!]!) { predict(modelId: $m, itemIds: $i) { result score threshold annotations { xMin xMax yMin yMax } } }',
    { m: modelId, i: itemIds },
    token,
  );
  expect(p.errors).toBeUndefined();
  return p.data!.predict;
}

beforeAll(async () => {
  gw = await startGateway();
  ({ url: baseUrl } = await gw.server.start());
  token = await gw.token('all');
  const t = await gw.gql<{ createTarget: { id: string } }>('mutation { createTarget(name: "camera") { id } }', {}, token);
  targetId = t.data!.createTarget.id;
  const files = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(async (seed) => ({ name: `${seed}.png`, bytes: await picture(seed) })));
  await uploadItems(baseUrl, token, files, { training: true, good: true, targetId });
});
afterAll(async () => {
  await gw?.close();
});

describe('training on camera-size pictures', () => {
  it('cuts them into tiles automatically and judges a speck far above the threshold that a shrunk whole picture barely shows, boxed in original pixels', async () => {
    const tiled = await train([]);
    expect(tiled.method).toMatch(/over 8 OK pictures \(\d+ tiles, a picture scoring its highest tile\)/);
    const whole = await train([{ name: 'tile_long_side', value: '64' }]);
    expect(whole.method).not.toMatch(/tiles/);

    const items = await uploadItems(
      baseUrl,
      token,
      [
        { name: 'clean.png', bytes: await picture(900) },
        { name: 'speck.png', bytes: await picture(901, true) },
      ],
      { training: false, targetId },
    );
    const [clean, speck] = await judge(
      tiled.id,
      items.map((i) => i.id),
    );
    expect(clean!.result).toBe('GOOD');
    expect(speck!.result).toBe('BAD');
    const cx = SPECK.x + SPECK.size / 2;
    const cy = SPECK.y + SPECK.size / 2;
    expect(speck!.annotations.some((b) => b.xMin <= cx && cx <= b.xMax && b.yMin <= cy && cy <= b.yMax && b.xMax - b.xMin < SIZE / 3)).toBe(true);

    // shrunk whole, the speck is a pixel: at best just over the threshold, far from the tiled margin
    const [shrunk] = await judge(whole.id, [items[1]!.id]);
    const margin = (p: { score: number; threshold: number }) => p.score / p.threshold;
    expect(margin(speck!)).toBeGreaterThan(4);
    expect(margin(shrunk!)).toBeLessThan(margin(speck!) / 3);
  }, 300_000);
});
