import sharp from 'sharp';
import type { InputSpec, TilingSpec } from '../onnx/contract.ts';
import { opaqueUpright } from './opaque.ts';
import { channelsOf, tensorSize } from './tensor.ts';

/**
 * Tiled inference of large pictures (InputSpec.tiling, contract.ts): the picture resized once,
 * cut once into the model's input size, and the tiles' anomaly maps stitched back into one.
 */

/**
 * Start offsets of `tile`-pixel tiles covering `length` pixels with at least `overlap` pixels
 * shared by neighbours: as few tiles as that allows, spread evenly, the last flush with the end.
 */
export function tileStarts(length: number, tile: number, overlap: number): number[] {
  if (length <= tile) return [0];
  const stride = Math.max(1, tile - overlap);
  const n = Math.ceil((length - tile) / stride) + 1;
  return Array.from({ length: n }, (_, i) => Math.round((i * (length - tile)) / (n - 1)));
}

/**
 * The size a picture is cut at: long side `longSide` (aspect kept, never upscaled); a side
 * shorter than the model input is stretched to it, so there is always at least one whole tile.
 */
export function tiledSize(width: number, height: number, spec: Pick<InputSpec, 'width' | 'height'>, tiling: TilingSpec): { width: number; height: number } {
  const k = Math.min(1, tiling.longSide / Math.max(width, height));
  return { width: Math.max(spec.width, Math.round(width * k)), height: Math.max(spec.height, Math.round(height * k)) };
}

export interface TiledPicture {
  /** Every tile's model input, one after the other (tiles x C x H x W, values 0..1). */
  data: Float32Array;
  /** Top-left corner of each tile in the resized picture, in `data` order. */
  tiles: { x: number; y: number }[];
  /** The resized picture the tiles were cut from. */
  scaledWidth: number;
  scaledHeight: number;
  /** The original picture's size after auto-orientation: boxes are reported in these pixels. */
  width: number;
  height: number;
}

/**
 * Decodes a picture and cuts it into tiles: EXIF auto-orientation, alpha dropped, resized to
 * `tiledSize` (one resize; libvips shrinks JPEGs on load when the factor allows), gray or sRGB,
 * then every tile written straight into one CHW float32 buffer (the batch's layout).
 */
export async function decodeTiles(
  input: Uint8Array | string,
  spec: InputSpec & { tiling: TilingSpec },
  knownSize?: { width: number; height: number },
): Promise<TiledPicture> {
  const oriented = knownSize ?? (await orientedSize(input));
  const size = tiledSize(oriented.width, oriented.height, spec, spec.tiling);
  const c = channelsOf(spec);
  let pipeline = (await opaqueUpright(input)).resize(size.width, size.height, { fit: 'fill', kernel: 'lanczos3', fastShrinkOnLoad: true });
  pipeline = c === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
  const { data: raw, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== c || info.width !== size.width || info.height !== size.height) {
    throw new Error(`preprocessing produced ${info.width}x${info.height}x${info.channels}, expected ${size.width}x${size.height}x${c}`);
  }
  const xs = tileStarts(size.width, spec.width, spec.tiling.overlap);
  const ys = tileStarts(size.height, spec.height, spec.tiling.overlap);
  const tiles = ys.flatMap((y) => xs.map((x) => ({ x, y })));
  const per = tensorSize(spec);
  const data = new Float32Array(tiles.length * per);
  const { width: tw, height: th } = spec;
  const plane = tw * th;
  const inv = 1 / 255;
  const rowBytes = size.width * c;
  tiles.forEach(({ x, y }, t) => {
    const base = t * per;
    for (let ty = 0; ty < th; ty++) {
      let src = (y + ty) * rowBytes + x * c;
      const dst = base + ty * tw;
      if (c === 1) {
        for (let tx = 0; tx < tw; tx++) data[dst + tx] = raw[src++]! * inv;
      } else {
        // HWC -> CHW
        for (let tx = 0; tx < tw; tx++, src += 3) {
          data[dst + tx] = raw[src]! * inv;
          data[dst + plane + tx] = raw[src + 1]! * inv;
          data[dst + 2 * plane + tx] = raw[src + 2]! * inv;
        }
      }
    }
  });
  return { data, tiles, scaledWidth: size.width, scaledHeight: size.height, width: oriented.width, height: oriented.height };
}

async function orientedSize(input: Uint8Array | string): Promise<{ width: number; height: number }> {
  const meta = await sharp(input).metadata();
  const o = meta.autoOrient ?? { width: meta.width, height: meta.height };
  if (!o.width || !o.height) throw new Error('the picture has no readable size');
  return { width: o.width, height: o.height };
}

export interface TileOutput {
  map: Float32Array;
  mapWidth: number;
  mapHeight: number;
  score: number;
}

/**
 * One anomaly map over the whole resized picture from the tiles' maps. A tile's map cell covers
 * (tile size / map size) resized pixels; a tile is placed at its offset in cells, rounded (off
 * by at most half a cell). Cells several tiles cover take the highest value ("max", which keeps
 * a defect on a tile's border as strong as in the tile that sees it whole) or their mean.
 * The score is the highest tile score.
 */
export function stitchTiles(
  outputs: readonly TileOutput[],
  tiles: readonly { x: number; y: number }[],
  spec: Pick<InputSpec, 'width' | 'height'>,
  merge: 'max' | 'mean' = 'max',
): TileOutput {
  if (outputs.length !== tiles.length || outputs.length === 0) throw new Error(`${outputs.length} tile outputs for ${tiles.length} tiles`);
  const { mapWidth: mw, mapHeight: mh } = outputs[0]!;
  const fx = spec.width / mw;
  const fy = spec.height / mh;
  const at = tiles.map(({ x, y }) => ({ ox: Math.round(x / fx), oy: Math.round(y / fy) }));
  const W = Math.max(...at.map((a) => a.ox + mw));
  const H = Math.max(...at.map((a) => a.oy + mh));
  const map = new Float32Array(W * H).fill(merge === 'max' ? -Infinity : 0);
  const count = merge === 'mean' ? new Uint16Array(W * H) : null;
  let score = -Infinity;
  outputs.forEach((o, t) => {
    if (o.mapWidth !== mw || o.mapHeight !== mh) throw new Error('tiles answered maps of different sizes');
    score = Math.max(score, o.score);
    const { ox, oy } = at[t]!;
    for (let j = 0; j < mh; j++) {
      const row = (oy + j) * W + ox;
      for (let i = 0; i < mw; i++) {
        const v = o.map[j * mw + i]!;
        if (count) {
          map[row + i] = map[row + i]! + v;
          count[row + i] = count[row + i]! + 1;
        } else if (v > map[row + i]!) map[row + i] = v;
      }
    }
  });
  for (let p = 0; p < map.length; p++) {
    if (count) map[p] = count[p]! > 0 ? map[p]! / count[p]! : 0;
    else if (map[p] === -Infinity) map[p] = 0;
  }
  return { map, mapWidth: W, mapHeight: H, score };
}
