import { Piscina } from 'piscina';
import { decodeToTensor } from '../images/tensor.ts';
import { decodeTiles } from '../images/tiles.ts';
import type { InputSpec, TilingSpec } from '../onnx/contract.ts';

/**
 * One picture decoded into the model's input, in a thread of the decode pool (piscina, sized by
 * DECODE_THREADS). sharp's own work runs on libuv's thread pool whatever thread calls it; what
 * the pool spreads over the cores is the JavaScript side: setting up each sharp pipeline and
 * turning the pixels into CHW floats (for tiled pictures, millions of them). The tensor comes back
 * transferred, not copied.
 */

export interface DecodeTask {
  path: string;
  spec: InputSpec;
  /** The picture's upright size when the caller knows it (stored images): skips a header read. */
  knownSize: { width: number; height: number } | null;
}

export interface DecodedPicture {
  /** One tensor (C x H x W), or every tile's one after the other (see `tiles`). */
  data: Float32Array;
  /** Top-left corners of the tiles in the resized picture; null: whole-picture resize. */
  tiles: { x: number; y: number }[] | null;
  width: number;
  height: number;
}

/** The decode itself, on whichever thread calls it (the pool's threads, or the pipeline worker's). */
export async function decodePicture(task: DecodeTask): Promise<DecodedPicture> {
  const knownSize = task.knownSize ?? undefined;
  let out: DecodedPicture;
  if (task.spec.tiling) {
    const pic = await decodeTiles(task.path, task.spec as InputSpec & { tiling: TilingSpec }, knownSize);
    out = { data: pic.data, tiles: pic.tiles, width: pic.width, height: pic.height };
  } else {
    const d = await decodeToTensor(task.path, task.spec, undefined, 0, knownSize);
    out = { data: d.data, tiles: null, width: d.width, height: d.height };
  }
  return out;
}

export default async function decode(task: DecodeTask): Promise<DecodedPicture> {
  const out = await decodePicture(task);
  return Piscina.move({ [Piscina.transferableSymbol]: [out.data.buffer], [Piscina.valueSymbol]: out } as never) as unknown as DecodedPicture;
}
