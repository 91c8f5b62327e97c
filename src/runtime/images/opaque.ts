import { closeSync, openSync, readSync } from 'node:fs';
import sharp, { type Metadata, type Sharp } from 'sharp';

/** JPEG (what most cameras send) cannot carry alpha: its first bytes say so without decoding. */
function isJpeg(input: Uint8Array | string): boolean {
  let head: Uint8Array = input as Uint8Array;
  if (typeof input === 'string') {
    head = new Uint8Array(3);
    const fd = openSync(input, 'r');
    try {
      readSync(fd, head, 0, 3, 0);
    } finally {
      closeSync(fd);
    }
  }
  return head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
}

/**
 * The upright picture with any alpha channel dropped *before* it is resized. sharp premultiplies
 * alpha when it resizes and drops the channel only at the end, so every fully transparent pixel
 * would come out black: integrators' BGRA frame buffers are often saved with alpha 0 everywhere,
 * and the documented rule is "alpha dropped", i.e. the colour as stored. A picture with alpha is
 * therefore first decoded to 8-bit sRGB without it (one more pass, for those pictures only).
 * `meta`: the picture's header when the caller has read it (no second read).
 */
export async function opaqueUpright(input: Uint8Array | string, meta?: Pick<Metadata, 'hasAlpha'>): Promise<Sharp> {
  const open = () => sharp(input, { failOn: 'error' }).autoOrient();
  // a caller that read the header already says whether there is alpha
  const hasAlpha = meta ? meta.hasAlpha : !isJpeg(input) && (await sharp(input).metadata()).hasAlpha;
  if (!hasAlpha) return open().removeAlpha();
  const { data, info } = await open().removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels as 3 } });
}
