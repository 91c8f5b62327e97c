import sharp from 'sharp';
import { rng } from '../src/runtime/training/algorithms/random.ts';

/**
 * Deterministic synthetic inspection data: textures (position-free) and aligned parts, with
 * defects of several kinds, sizes and contrasts, plus ground-truth masks and boxes.
 * The same (category, seed, size, defect) always gives the same pixels.
 */

export const TEXTURES = ['carpet', 'mesh', 'wood'] as const;
export const PARTS = ['plate', 'chip'] as const;
export const CATEGORIES = [...TEXTURES, ...PARTS] as const;
export type TextureKind = (typeof TEXTURES)[number];
export type PartKind = (typeof PARTS)[number];
export type Category = (typeof CATEGORIES)[number];

export const DEFECT_KINDS = ['scratch', 'spot', 'crack', 'contamination', 'missing'] as const;
export type DefectKind = (typeof DEFECT_KINDS)[number];
export const DEFECT_SIZES = ['small', 'medium', 'large'] as const;
export type DefectSize = (typeof DEFECT_SIZES)[number];
export const CONTRASTS = ['faint', 'low', 'high'] as const;
export type Contrast = (typeof CONTRASTS)[number];

export interface DefectSpec {
  kind: DefectKind;
  size: DefectSize;
  contrast: Contrast;
}

export interface Box {
  xMin: number;
  yMin: number;
  /** Inclusive. */
  xMax: number;
  yMax: number;
}

export interface GroundTruth extends DefectSpec {
  box: Box;
  /** Defect pixels (mask area). */
  area: number;
}

export interface SyntheticImage {
  category: Category;
  width: number;
  height: number;
  /** Interleaved RGB, 8 bit. */
  rgb: Uint8Array;
  /** 1 where a defect is, else 0; all zeros for OK images. */
  mask: Uint8Array;
  defects: GroundTruth[];
}

const hash = (...xs: number[]) => xs.reduce((h, x) => (Math.imul(h ^ (x | 0), 0x9e3779b1) + 0x7f4a7c15) >>> 0, 0x12345);

/** Smooth value noise, sum of octaves, roughly in 0..1. */
function valueNoise(r: () => number, w: number, h: number, cell: number, octaves = 3): Float32Array {
  const out = new Float32Array(w * h);
  let amp = 1;
  let total = 0;
  for (let o = 0; o < octaves; o++) {
    const c = Math.max(2, cell / 2 ** o);
    const gw = Math.ceil(w / c) + 2;
    const gh = Math.ceil(h / c) + 2;
    const grid = Float32Array.from({ length: gw * gh }, () => r());
    const ox = r() * c;
    const oy = r() * c;
    for (let y = 0; y < h; y++) {
      const gy = (y + oy) / c;
      const y0 = Math.floor(gy);
      const ty = smooth(gy - y0);
      for (let x = 0; x < w; x++) {
        const gx = (x + ox) / c;
        const x0 = Math.floor(gx);
        const tx = smooth(gx - x0);
        const a = grid[y0 * gw + x0]!;
        const b = grid[y0 * gw + x0 + 1]!;
        const cc = grid[(y0 + 1) * gw + x0]!;
        const d = grid[(y0 + 1) * gw + x0 + 1]!;
        out[y * w + x]! += amp * (a + (b - a) * tx + (cc - a) * ty + (a - b - cc + d) * tx * ty);
      }
    }
    total += amp;
    amp *= 0.5;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= total;
  return out;
}

const smooth = (t: number) => t * t * (3 - 2 * t);
const clamp01 = (v: number) => (v < 0 ? 0 : Math.min(v, 1));

/** Planar float RGB canvas, 0..1. */
class Canvas {
  readonly r: Float32Array;
  readonly g: Float32Array;
  readonly b: Float32Array;
  readonly w: number;
  readonly h: number;
  constructor(w: number, h: number) {
    this.w = w;
    this.h = h;
    this.r = new Float32Array(w * h);
    this.g = new Float32Array(w * h);
    this.b = new Float32Array(w * h);
  }
  set(i: number, c: readonly [number, number, number]) {
    this.r[i] = c[0];
    this.g[i] = c[1];
    this.b[i] = c[2];
  }
  blend(i: number, c: readonly [number, number, number], alpha: number) {
    this.r[i]! += (c[0] - this.r[i]!) * alpha;
    this.g[i]! += (c[1] - this.g[i]!) * alpha;
    this.b[i]! += (c[2] - this.b[i]!) * alpha;
  }
  luma(i: number) {
    return 0.299 * this.r[i]! + 0.587 * this.g[i]! + 0.114 * this.b[i]!;
  }
}

const mix = (a: readonly number[], b: readonly number[], t: number) => [0, 1, 2].map((k) => a[k]! + (b[k]! - a[k]!) * t) as [number, number, number];

// ---------- textures: every image is a fresh, unaligned patch of the same material ----------

function drawTexture(kind: TextureKind, c: Canvas, r: () => number) {
  const { w, h } = c;
  const s = w / 128; // features scale with the image
  if (kind === 'carpet') {
    const n = valueNoise(r, w, h, 6 * s, 3);
    const n2 = valueNoise(r, w, h, 24 * s, 2);
    const dark = [0.35, 0.3, 0.45];
    const light = [0.75, 0.68, 0.85];
    for (let i = 0; i < w * h; i++) c.set(i, mix(dark, light, clamp01(0.8 * n[i]! + 0.3 * n2[i]! - 0.05)));
  } else if (kind === 'mesh') {
    const period = 8 * s;
    const angle = (r() - 0.5) * 0.08;
    const px = r() * period;
    const py = r() * period;
    const ca = Math.cos(angle);
    const sa = Math.sin(angle);
    const n = valueNoise(r, w, h, 4 * s, 2);
    const base = [0.55, 0.55, 0.5];
    const thread = [0.85, 0.83, 0.75];
    const gap = [0.2, 0.2, 0.18];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const u = ((x * ca - y * sa + px) / period) * 2 * Math.PI;
        const v = ((x * sa + y * ca + py) / period) * 2 * Math.PI;
        const weave = 0.5 + 0.5 * Math.sin(u) * Math.sin(v);
        const holes = Math.max(0, -Math.cos(u) - Math.cos(v) - 1.2);
        const col = mix(mix(base, thread, weave), gap, Math.min(1, holes * 1.5));
        const jitter = (n[y * w + x]! - 0.5) * 0.12;
        c.set(y * w + x, [col[0] + jitter, col[1] + jitter, col[2] + jitter]);
      }
  } else {
    const warp = valueNoise(r, w, h, 32 * s, 2);
    const grain = valueNoise(r, w, h, 3 * s, 1);
    const period = 10 * s * (0.9 + 0.2 * r());
    const phase = r() * 100;
    const dark = [0.45, 0.28, 0.15];
    const light = [0.78, 0.58, 0.38];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const t = 0.5 + 0.5 * Math.sin(((y + 14 * s * warp[i]! + phase) / period) * 2 * Math.PI + x * 0.01);
        c.set(i, mix(dark, light, clamp01(0.85 * t + 0.25 * (grain[i]! - 0.5) + 0.08)));
      }
  }
}

// ---------- aligned parts: the same object, placed to within a pixel, lit slightly differently ----------

interface PartGeometry {
  /** Inside the object (1) or background (0), anti-aliased 0..1. */
  cover(x: number, y: number): number;
  color(x: number, y: number): [number, number, number];
  background: [number, number, number];
}

function roundedRect(x: number, y: number, x0: number, y0: number, x1: number, y1: number, rad: number) {
  const cx = Math.max(x0 + rad - x, 0, x - (x1 - rad));
  const cy = Math.max(y0 + rad - y, 0, y - (y1 - rad));
  const outside = Math.hypot(cx, cy) - rad;
  const inside = Math.min(x - x0, x1 - x, y - y0, y1 - y);
  const d = cx > 0 && cy > 0 ? outside : -inside; // signed distance, negative inside
  return clamp01(0.5 - d);
}

const disc = (x: number, y: number, cx: number, cy: number, rad: number) => clamp01(0.5 - (Math.hypot(x - cx, y - cy) - rad));

function partGeometry(kind: PartKind, w: number, h: number, dx: number, dy: number): PartGeometry {
  const s = w / 128;
  if (kind === 'plate') {
    const holes = [
      [28, 28],
      [100, 28],
      [28, 100],
      [100, 100],
    ].map(([x, y]) => [x! * s + dx, y! * s + dy] as const);
    const centre = [64 * s + dx, 64 * s + dy] as const;
    return {
      background: [0.12, 0.14, 0.18],
      cover(x, y) {
        let v = roundedRect(x, y, 14 * s + dx, 14 * s + dy, 114 * s + dx, 114 * s + dy, 10 * s);
        for (const [hx, hy] of holes) v = Math.min(v, 1 - disc(x, y, hx, hy, 7 * s));
        return Math.min(v, 1 - disc(x, y, centre[0], centre[1], 14 * s) * (1 - disc(x, y, centre[0], centre[1], 8 * s)));
      },
      color(x, y) {
        // brushed metal: a gentle gradient plus a ring around the centre boss
        const g = 0.62 + 0.1 * ((x - dx) / w) - 0.05 * ((y - dy) / h);
        const ring = disc(x, y, centre[0], centre[1], 20 * s) * (1 - disc(x, y, centre[0], centre[1], 17 * s));
        return [g - 0.2 * ring, g - 0.18 * ring, g - 0.12 * ring];
      },
    };
  }
  const pins = Array.from({ length: 6 }, (_, k) => 30 * s + k * 13.6 * s + dy);
  return {
    background: [0.2, 0.45, 0.25],
    cover(x, y) {
      let v = roundedRect(x, y, 34 * s + dx, 22 * s + dy, 94 * s + dx, 106 * s + dy, 3 * s);
      for (const py of pins) {
        v = Math.max(v, roundedRect(x, y, 18 * s + dx, py - 3 * s, 34 * s + dx, py + 3 * s, 1));
        v = Math.max(v, roundedRect(x, y, 94 * s + dx, py - 3 * s, 110 * s + dx, py + 3 * s, 1));
      }
      return v;
    },
    color(x, y) {
      if (x < 34 * s + dx || x > 94 * s + dx) return [0.78, 0.78, 0.74]; // pins
      const dot = disc(x, y, 44 * s + dx, 32 * s + dy, 3 * s);
      const label = roundedRect(x, y, 46 * s + dx, 56 * s + dy, 82 * s + dx, 72 * s + dy, 1) * 0.18;
      const v = 0.16 + label + 0.3 * dot;
      return [v, v, v + 0.02];
    },
  };
}

function drawPart(kind: PartKind, c: Canvas, r: () => number) {
  const dx = (r() - 0.5) * 1.5 * (c.w / 128);
  const dy = (r() - 0.5) * 1.5 * (c.w / 128);
  const light = 0.94 + 0.12 * r();
  const geo = partGeometry(kind, c.w, c.h, dx, dy);
  const noise = valueNoise(r, c.w, c.h, 2, 1);
  for (let y = 0; y < c.h; y++)
    for (let x = 0; x < c.w; x++) {
      const i = y * c.w + x;
      const col = mix(geo.background, geo.color(x + 0.5, y + 0.5), geo.cover(x + 0.5, y + 0.5));
      const n = (noise[i]! - 0.5) * 0.05;
      c.set(i, [col[0] * light + n, col[1] * light + n, col[2] * light + n]);
    }
}

// ---------- defects ----------

const SIZE_FRACTION: Record<DefectSize, number> = { small: 0.1, medium: 0.17, large: 0.26 };
const CONTRAST_DELTA: Record<Contrast, number> = { faint: 0.08, low: 0.14, high: 0.35 };

/** Distance from (x, y) to the polyline. */
function polylineDistance(x: number, y: number, pts: readonly (readonly [number, number])[]) {
  let best = Infinity;
  for (let k = 0; k + 1 < pts.length; k++) {
    const [ax, ay] = pts[k]!;
    const [bx, by] = pts[k + 1]!;
    const vx = bx - ax;
    const vy = by - ay;
    const t = clamp01(((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy || 1));
    best = Math.min(best, Math.hypot(x - ax - t * vx, y - ay - t * vy));
  }
  return best;
}

/**
 * Applies one defect; returns the per-pixel alpha it used (the ground truth is alpha > 0.35).
 * Defects stay inside the object for parts (except "missing", which bites into it).
 */
function applyDefect(c: Canvas, spec: DefectSpec, r: () => number, category: Category): Float32Array {
  const { w, h } = c;
  const alpha = new Float32Array(w * h);
  const extent = SIZE_FRACTION[spec.size] * w;
  const sign = r() < 0.5 ? -1 : 1;
  const isPart = (PARTS as readonly string[]).includes(category);
  const margin = isPart ? 0.3 * w : extent / 2 + 4;
  const cx = margin + r() * (w - 2 * margin);
  const cy = margin + r() * (h - 2 * margin);
  // a darkening on black (or brightening on white) would leave nothing to see
  const centreLuma = c.luma(Math.floor(cy) * w + Math.floor(cx));
  const delta = CONTRAST_DELTA[spec.contrast] * (centreLuma < 0.3 ? 1 : centreLuma > 0.75 ? -1 : sign);
  const shift = (i: number, a: number, d = delta) => {
    const v: [number, number, number] = [c.r[i]! + d, c.g[i]! + d, c.b[i]! + d];
    c.blend(i, v, a);
  };

  if (spec.kind === 'scratch' || spec.kind === 'crack') {
    const len = extent * 1.6;
    const ang = r() * Math.PI;
    const pts: [number, number][] = [];
    const steps = spec.kind === 'crack' ? 10 : 4;
    let px = cx - (Math.cos(ang) * len) / 2;
    let py = cy - (Math.sin(ang) * len) / 2;
    let dir = ang;
    for (let k = 0; k <= steps; k++) {
      pts.push([px, py]);
      dir += spec.kind === 'crack' ? (r() - 0.5) * 1.2 : (r() - 0.5) * 0.15;
      px += (Math.cos(dir) * len) / steps;
      py += (Math.sin(dir) * len) / steps;
    }
    const width = (spec.kind === 'crack' ? 0.8 : 1) * (spec.size === 'small' ? 1.2 : spec.size === 'medium' ? 1.6 : 2.2) * (w / 128);
    const d = spec.kind === 'crack' ? (centreLuma < 0.3 ? 1.3 : -1.3) * Math.abs(delta) : delta;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const a = clamp01(width - polylineDistance(x + 0.5, y + 0.5, pts) + 0.5);
        if (a > 0) {
          alpha[y * w + x] = a;
          shift(y * w + x, a, d);
        }
      }
  } else if (spec.kind === 'spot') {
    const rx = (extent / 2) * (0.6 + 0.4 * r());
    const ry = (extent / 2) * (0.6 + 0.4 * r());
    const rot = r() * Math.PI;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const u = (x + 0.5 - cx) * Math.cos(rot) + (y + 0.5 - cy) * Math.sin(rot);
        const v = -(x + 0.5 - cx) * Math.sin(rot) + (y + 0.5 - cy) * Math.cos(rot);
        const q = Math.sqrt((u / rx) ** 2 + (v / ry) ** 2);
        const a = clamp01((1.15 - q) * 3);
        if (a > 0) {
          alpha[y * w + x] = a;
          shift(y * w + x, a);
        }
      }
  } else if (spec.kind === 'contamination') {
    const n = valueNoise(r, w, h, Math.max(3, extent / 4), 2);
    const opacity = { faint: 0.3, low: 0.55, high: 0.9 }[spec.contrast];
    const hue: [number, number, number] = r() < 0.5 ? [0.55 + delta, 0.35 + delta, 0.12] : [0.2, 0.3 + delta, 0.55 + delta];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const dist = Math.hypot(x + 0.5 - cx, y + 0.5 - cy) / (extent / 2);
        const a = clamp01((1 - dist) * 2.5 + (n[y * w + x]! - 0.5) * 2.5) * opacity;
        if (a > 0.02) {
          alpha[y * w + x] = a / opacity;
          c.blend(y * w + x, hue, a);
        }
      }
  } else {
    // missing: a chunk of the material is gone, showing what lies beneath
    const under: [number, number, number] = isPart ? partGeometry(category as PartKind, w, h, 0, 0).background : [0.1, 0.1, 0.1];
    const keep = { faint: 0.7, low: 0.5, high: 0 }[spec.contrast];
    const rad = extent / 2;
    const side = Math.floor(r() * 4);
    // for parts, bite from the object's edge (a corner/pin region); for textures, a hole
    const [mx, my] = isPart
      ? ([
          [0.22 * w, 0.5 * h],
          [0.78 * w, 0.5 * h],
          [0.5 * w, 0.2 * h],
          [0.5 * w, 0.8 * h],
        ][side] as [number, number])
      : [cx, cy];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const a = clamp01(rad - Math.hypot(x + 0.5 - mx, y + 0.5 - my) + 0.5);
        if (a > 0) {
          const target = mix(under, [c.r[i]!, c.g[i]!, c.b[i]!], keep);
          // only where the object was, so the mask marks a real change
          const was = Math.abs(c.luma(i) - (0.299 * target[0] + 0.587 * target[1] + 0.114 * target[2]));
          if (was > 0.03 || !isPart) {
            alpha[i] = a;
            c.blend(i, target, a);
          }
        }
      }
  }
  return alpha;
}

export interface GenerateOptions {
  seed: number;
  /** Square side in pixels (64..256 sensible). */
  size?: number;
  defect?: DefectSpec | null;
}

export function generateImage(category: Category, opts: GenerateOptions): SyntheticImage {
  const size = opts.size ?? 128;
  const r = rng(hash(opts.seed, CATEGORIES.indexOf(category), size));
  const c = new Canvas(size, size);
  if ((TEXTURES as readonly string[]).includes(category)) drawTexture(category as TextureKind, c, r);
  else drawPart(category as PartKind, c, r);

  const mask = new Uint8Array(size * size);
  const defects: GroundTruth[] = [];
  if (opts.defect) {
    const alpha = applyDefect(c, opts.defect, rng(hash(opts.seed, 77, CATEGORIES.indexOf(category))), category);
    let xMin = size;
    let yMin = size;
    let xMax = -1;
    let yMax = -1;
    let area = 0;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        if (alpha[y * size + x]! > 0.35) {
          mask[y * size + x] = 1;
          area++;
          xMin = Math.min(xMin, x);
          yMin = Math.min(yMin, y);
          xMax = Math.max(xMax, x);
          yMax = Math.max(yMax, y);
        }
    if (area > 0) defects.push({ ...opts.defect, box: { xMin, yMin, xMax, yMax }, area });
  }

  const rgb = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    rgb[i * 3] = Math.round(clamp01(c.r[i]!) * 255);
    rgb[i * 3 + 1] = Math.round(clamp01(c.g[i]!) * 255);
    rgb[i * 3 + 2] = Math.round(clamp01(c.b[i]!) * 255);
  }
  return { category, width: size, height: size, rgb, mask, defects };
}

/** Every kind x size x contrast combination, in a fixed order (45 in all). */
export const ALL_DEFECTS: readonly DefectSpec[] = DEFECT_KINDS.flatMap((kind) =>
  DEFECT_SIZES.flatMap((size) => CONTRASTS.map((contrast) => ({ kind, size, contrast }))),
);

export interface SyntheticSet {
  category: Category;
  ok: SyntheticImage[];
  /** Cycles through ALL_DEFECTS. */
  ng: SyntheticImage[];
}

/** `ok` clean images and `ng` defective ones; seeds are disjoint from other calls' with another `seed`. */
export function generateSet(category: Category, opts: { seed: number; size?: number; ok: number; ng: number }): SyntheticSet {
  const base = opts.seed * 100_003;
  const ok = Array.from({ length: opts.ok }, (_, k) => generateImage(category, { seed: base + k, size: opts.size }));
  const ng = Array.from({ length: opts.ng }, (_, k) =>
    generateImage(category, { seed: base + 50_000 + k, size: opts.size, defect: ALL_DEFECTS[k % ALL_DEFECTS.length]! }),
  );
  return { category, ok, ng };
}

export function toPng(img: SyntheticImage): Promise<Buffer> {
  return sharp(Buffer.from(img.rgb), { raw: { width: img.width, height: img.height, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

/** The defect mask as a black/white PNG (for looking at the data). */
export function maskPng(img: SyntheticImage): Promise<Buffer> {
  return sharp(Buffer.from(img.mask.map((v) => v * 255)), { raw: { width: img.width, height: img.height, channels: 1 } })
    .png()
    .toBuffer();
}
