import sharp from 'sharp';

/** A picture being prepared: planar float RGB (0..1), the layout the painter works in. */
export interface Picture {
  width: number;
  height: number;
  /** r plane, g plane, b plane; values 0..1. */
  rgb: Float32Array;
}

export function emptyPicture(width: number, height: number): Picture {
  return { width, height, rgb: new Float32Array(3 * width * height) };
}

export function clonePicture(p: Picture): Picture {
  return { width: p.width, height: p.height, rgb: p.rgb.slice() };
}

/** Decodes any picture sharp reads (optionally a region of it, resized) to a Picture. */
export async function readPicture(
  input: string | Buffer,
  opts: { region?: { x: number; y: number; width: number; height: number }; width?: number; height?: number } = {},
): Promise<Picture> {
  let p = sharp(input).removeAlpha().toColourspace('srgb');
  if (opts.region) p = p.extract({ left: opts.region.x, top: opts.region.y, width: opts.region.width, height: opts.region.height });
  if (opts.width && opts.height) p = p.resize(opts.width, opts.height, { fit: 'fill', kernel: 'lanczos3' });
  const { data, info } = await p.raw().toBuffer({ resolveWithObject: true });
  return fromInterleaved(data, info.width, info.height, info.channels);
}

export function fromInterleaved(data: Uint8Array, width: number, height: number, channels: number): Picture {
  const out = emptyPicture(width, height);
  const plane = width * height;
  for (let i = 0; i < plane; i++) {
    const r = data[i * channels]! / 255;
    out.rgb[i] = r;
    out.rgb[plane + i] = channels >= 3 ? data[i * channels + 1]! / 255 : r;
    out.rgb[2 * plane + i] = channels >= 3 ? data[i * channels + 2]! / 255 : r;
  }
  return out;
}

export function toInterleaved(p: Picture): Buffer {
  const plane = p.width * p.height;
  const out = Buffer.alloc(plane * 3);
  for (let i = 0; i < plane; i++)
    for (let c = 0; c < 3; c++) {
      const v = p.rgb[c * plane + i]!;
      out[i * 3 + c] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
    }
  return out;
}

/** What a line camera delivers: JPEG at a high quality setting. */
export function encodeJpeg(p: Picture, quality = 92): Promise<Buffer> {
  return sharp(toInterleaved(p), { raw: { width: p.width, height: p.height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:2:0' })
    .toBuffer();
}

export function encodePng(p: Picture): Promise<Buffer> {
  return sharp(toInterleaved(p), { raw: { width: p.width, height: p.height, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

/** Resizes with sharp's lanczos3 (float precision is not needed for the benchmark's pictures). */
export async function resizePicture(p: Picture, width: number, height: number): Promise<Picture> {
  const { data, info } = await sharp(toInterleaved(p), { raw: { width: p.width, height: p.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return fromInterleaved(data, info.width, info.height, info.channels);
}

export function crop(p: Picture, x: number, y: number, width: number, height: number): Picture {
  const out = emptyPicture(width, height);
  const plane = p.width * p.height;
  const oplane = width * height;
  for (let c = 0; c < 3; c++)
    for (let j = 0; j < height; j++) {
      const src = c * plane + (y + j) * p.width + x;
      out.rgb.set(p.rgb.subarray(src, src + width), c * oplane + j * width);
    }
  return out;
}

/** Luminance plane (Rec. 601 weights). */
export function luma(p: Picture): Float32Array {
  const plane = p.width * p.height;
  const out = new Float32Array(plane);
  for (let i = 0; i < plane; i++) out[i] = 0.299 * p.rgb[i]! + 0.587 * p.rgb[plane + i]! + 0.114 * p.rgb[2 * plane + i]!;
  return out;
}

/** Bilinear sample of channel c at (x, y) (pixel centres at integer + 0.5), edges clamped. */
export function sample(p: Picture, c: number, x: number, y: number): number {
  const w = p.width;
  const h = p.height;
  const fx = Math.min(Math.max(x - 0.5, 0), w - 1);
  const fy = Math.min(Math.max(y - 0.5, 0), h - 1);
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const x1 = Math.min(x0 + 1, w - 1);
  const y1 = Math.min(y0 + 1, h - 1);
  const tx = fx - x0;
  const ty = fy - y0;
  const o = c * w * h;
  const a = p.rgb[o + y0 * w + x0]!;
  const b = p.rgb[o + y0 * w + x1]!;
  const d = p.rgb[o + y1 * w + x0]!;
  const e = p.rgb[o + y1 * w + x1]!;
  return a + (b - a) * tx + (d - a) * ty + (a - b - d + e) * tx * ty;
}

/** Separable Gaussian blur of one float plane, in place (radius 3 sigma). */
export function blurPlane(plane: Float32Array, w: number, h: number, sigma: number): void {
  if (sigma <= 0.01) return;
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= s;
  const tmp = new Float32Array(Math.max(w, h));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let i = -r; i <= r; i++) acc += k[i + r]! * plane[y * w + Math.min(w - 1, Math.max(0, x + i))]!;
      tmp[x] = acc;
    }
    plane.set(tmp.subarray(0, w), y * w);
  }
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      let acc = 0;
      for (let i = -r; i <= r; i++) acc += k[i + r]! * plane[Math.min(h - 1, Math.max(0, y + i)) * w + x]!;
      tmp[y] = acc;
    }
    for (let y = 0; y < h; y++) plane[y * w + x] = tmp[y]!;
  }
}

/** Standard normal sample from a uniform generator (Box-Muller). */
export function gauss(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** Smooth value noise (one octave, cell pixels), values 0..1, for irregular shapes and shading. */
export function valueNoise(r: () => number, w: number, h: number, cell: number): Float32Array {
  const gw = Math.ceil(w / cell) + 2;
  const gh = Math.ceil(h / cell) + 2;
  const grid = Float32Array.from({ length: gw * gh }, () => r());
  const out = new Float32Array(w * h);
  const s = (t: number) => t * t * (3 - 2 * t);
  for (let y = 0; y < h; y++) {
    const gy = y / cell;
    const y0 = Math.floor(gy);
    const ty = s(gy - y0);
    for (let x = 0; x < w; x++) {
      const gx = x / cell;
      const x0 = Math.floor(gx);
      const tx = s(gx - x0);
      const a = grid[y0 * gw + x0]!;
      const b = grid[y0 * gw + x0 + 1]!;
      const c = grid[(y0 + 1) * gw + x0]!;
      const d = grid[(y0 + 1) * gw + x0 + 1]!;
      out[y * w + x] = a + (b - a) * tx + (c - a) * ty + (a - b - c + d) * tx * ty;
    }
  }
  return out;
}
