import sharp from 'sharp';
import type { InputSpec, TilingSpec } from '../onnx/contract.ts';
import { decodeTiles } from '../images/tiles.ts';
import { tensorSize, toTensor } from '../images/tensor.ts';

/**
 * Camera-size pictures in training: a 5 MP picture shrunk whole to a 256 px input turns a defect
 * of 0.3 % of the picture into a few pixels. Such pictures are cut instead into input-size tiles
 * from a copy whose long side is a few times the input (the model's InputSpec.tiling, which
 * prediction applies the same way): the model learns and judges at that resolution.
 */

/** Automatic tiling starts when the pictures' long side is this many times the input size... */
export const AUTO_TILE_FROM = 3;
/** ...and cuts them from a copy this many times the input size (16-20 tiles of a 4:3 picture). */
export const AUTO_TILE_COPY = 4;

/**
 * The tiling for these training pictures: `longSide` > 0 asks for that long side (at most the
 * input size: whole pictures); 0 decides from the pictures' median long side.
 */
export async function tilingFor(pictures: readonly Uint8Array[], spec: InputSpec, longSide: number): Promise<TilingSpec | null> {
  const input = Math.max(spec.width, spec.height);
  let side = longSide;
  if (side <= 0) {
    const sides = await Promise.all(
      pictures.map(async (p) => {
        const m = await sharp(p).metadata();
        return Math.max(m.width ?? 0, m.height ?? 0);
      }),
    );
    sides.sort((a, b) => a - b);
    const median = sides[sides.length >> 1] ?? 0;
    if (median < AUTO_TILE_FROM * input) return null;
    side = Math.min(median, AUTO_TILE_COPY * input);
  }
  if (side <= input) return null;
  return { longSide: Math.round(side), overlap: Math.round(Math.min(spec.width, spec.height) / 8), merge: 'max' };
}

/** The tensors of one picture: one, or its tiles (spec.tiling) each as its own tensor. */
export async function trainingTensors(bytes: Uint8Array, spec: InputSpec): Promise<Float32Array[]> {
  if (!spec.tiling) return [await toTensor(bytes, spec)];
  const pic = await decodeTiles(bytes, spec as InputSpec & { tiling: TilingSpec });
  const per = tensorSize(spec);
  return pic.tiles.map((_, t) => pic.data.slice(t * per, (t + 1) * per));
}
