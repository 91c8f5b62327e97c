import sharp from 'sharp';
import { ColorMode, type InputSpec } from '../onnx/contract.ts';
import { opaqueUpright } from './opaque.ts';

/** Channels of the model input for a colour mode. */
export const channelsOf = (spec: Pick<InputSpec, 'color'>): number => (spec.color === ColorMode.RGB ? 3 : 1);

/** Number of floats one image occupies in the input tensor (C x H x W). */
export const tensorSize = (spec: Pick<InputSpec, 'color' | 'width' | 'height'>): number => channelsOf(spec) * spec.width * spec.height;

export interface DecodedTensor {
  /** C x H x W, values 0..1. */
  data: Float32Array;
  /** The picture's size after auto-orientation: boxes are reported in these pixels. */
  width: number;
  height: number;
}

/**
 * Decodes one picture into the model's input layout. The same code runs for training and for
 * prediction, so a model always sees pixels prepared exactly as it learnt them:
 * EXIF auto-orientation, alpha dropped, stretched ("fill") to width x height, gray (luminance) or
 * sRGB, 8 bits per channel, CHW float32 scaled to 0..1.
 *
 * `out`/`offset` let a caller write straight into a batch buffer (no copy).
 */
export async function decodeToTensor(
  input: Uint8Array | string,
  spec: InputSpec,
  out?: Float32Array,
  offset = 0,
  /** The picture's upright size when the caller knows it (stored images): skips a header read. */
  knownSize?: { width: number; height: number },
): Promise<DecodedTensor> {
  const c = channelsOf(spec);
  const { width: W, height: H } = spec;
  // A path lets libvips read the file inside its own job: one thread-pool round trip, not five.
  let pipeline = await opaqueUpright(input);
  pipeline = pipeline.resize(W, H, { fit: 'fill', kernel: 'lanczos3' });
  pipeline = c === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
  // The pipeline's `info` gives only the output size; the source size needs the header (cheap).
  const [meta, { data: raw, info }] = await Promise.all([
    knownSize ? null : sharp(input).metadata(),
    pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true }),
  ]);
  if (info.channels !== c || info.width !== W || info.height !== H) {
    throw new Error(`preprocessing produced ${info.width}x${info.height}x${info.channels}, expected ${W}x${H}x${c}`);
  }
  const plane = W * H;
  const data = out ?? new Float32Array(c * plane);
  const inv = 1 / 255;
  if (c === 1) {
    for (let i = 0; i < plane; i++) data[offset + i] = raw[i]! * inv;
  } else {
    // HWC -> CHW
    for (let i = 0, p = 0; i < plane; i++, p += 3) {
      data[offset + i] = raw[p]! * inv;
      data[offset + plane + i] = raw[p + 1]! * inv;
      data[offset + 2 * plane + i] = raw[p + 2]! * inv;
    }
  }
  const oriented = knownSize ?? meta?.autoOrient ?? { width: meta?.width ?? W, height: meta?.height ?? H };
  return {
    data: out ? data.subarray(offset, offset + c * plane) : data,
    width: oriented.width,
    height: oriented.height,
  };
}

/** The model input (CHW float 0..1) of one picture. */
export async function toTensor(bytes: Uint8Array, spec: InputSpec): Promise<Float32Array> {
  return (await decodeToTensor(bytes, spec)).data;
}
