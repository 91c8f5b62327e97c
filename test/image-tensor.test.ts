import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderHeatmap } from '../src/runtime/images/heatmap.ts';
import { decodeToTensor } from '../src/runtime/images/tensor.ts';
import { decodeTiles } from '../src/runtime/images/tiles.ts';
import { ColorMode, type InputSpec } from '../src/runtime/onnx/contract.ts';

const spec: InputSpec = { width: 32, height: 32, color: ColorMode.RGB, resize: 'fill', anomalyRange: [0, 1] };
const W = 96;
const H = 64;

/** An RGBA picture of one colour, with the same alpha everywhere. */
const rgba = (alpha: number) => {
  const px = Buffer.alloc(W * H * 4);
  for (let i = 0; i < W * H; i++) px.set([200, 100, 50, alpha], i * 4);
  return sharp(px, { raw: { width: W, height: H, channels: 4 } })
    .png()
    .toBuffer();
};
const rgb = () =>
  sharp({ create: { width: W, height: H, channels: 3, background: { r: 200, g: 100, b: 50 } } })
    .png()
    .toBuffer();
const channelMeans = (t: Float32Array) => [0, 1, 2].map((c) => Math.round((255 * t.subarray(c * 1024, (c + 1) * 1024).reduce((a, b) => a + b, 0)) / 1024));

describe('alpha is dropped, not applied: the colour as stored is what the model sees', () => {
  it('a frame saved with alpha 0 everywhere (a BGRA buffer) decodes to its colours, as the same picture without alpha', async () => {
    expect(channelMeans((await decodeToTensor(await rgb(), spec)).data)).toEqual([200, 100, 50]);
    for (const alpha of [0, 128, 255]) expect(channelMeans((await decodeToTensor(await rgba(alpha), spec)).data), `alpha ${alpha}`).toEqual([200, 100, 50]);
  });

  it('the same when the picture is cut into tiles, and in the heatmap drawn over it', async () => {
    const tiled = await decodeTiles(await rgba(0), { ...spec, tiling: { longSide: 64, overlap: 0 } });
    expect(tiled.tiles.length).toBeGreaterThan(1);
    expect(channelMeans(tiled.data.subarray(0, 3 * 1024))).toEqual([200, 100, 50]);
    // a flat map at the colour scale's bottom: the overlay's tint is the same on both, so the pictures must match
    const map = new Float32Array(16);
    const draw = async (image: Buffer) => sharp((await renderHeatmap({ image, map, mapWidth: 4, mapHeight: 4, anomalyRange: [0, 1] })).png).stats();
    const [clear, opaque] = await Promise.all([draw(await rgba(0)), draw(await rgb())]);
    expect(clear.channels.slice(0, 3).map((c) => Math.round(c.mean))).toEqual(opaque.channels.slice(0, 3).map((c) => Math.round(c.mean)));
  });
});
