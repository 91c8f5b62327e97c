import { rng } from './algorithms/random.ts';

/**
 * Pseudo-defects made from the user's own OK pictures, for judging how well a trained model
 * separates anomalies when no (or few) NG pictures were given: the automatic choice between
 * algorithms ranks candidates by how they score these against held-out OK pictures.
 *
 * Deliberately generic and simple, so no algorithm is tuned to one painter: CutPaste (a patch
 * of another OK picture, or of the same one elsewhere, pasted with a soft edge, sometimes
 * turned), a spot darker or brighter than its surroundings, a thin line, and a colour cast.
 * Sizes 0.5-6 % of the picture, contrasts relative to the picture's own spread.
 */

export const PSEUDO_KINDS = ['cutpaste', 'spot', 'line', 'cast'] as const;
export type PseudoKind = (typeof PSEUDO_KINDS)[number];

export interface PseudoDefect {
  kind: PseudoKind;
  tensor: Float32Array;
}

type Dims = { channels: number; height: number; width: number };

/** An ellipse's weight at normalised radius q: 1 inside, a soft edge of a quarter radius. */
const soft = (q: number) => Math.min(1, Math.max(0, (1 - q) * 4));

/** Adds `delta` (times each channel's tint) over a soft-edged ellipse, in place. */
function addBlob(t: Float32Array, dims: Dims, e: { cx: number; cy: number; rx: number; ry: number }, delta: number, tint: readonly number[]) {
  const { channels: c, height: h, width: w } = dims;
  const plane = h * w;
  for (let y = Math.max(0, Math.floor(e.cy - e.ry - 1)); y < Math.min(h, Math.ceil(e.cy + e.ry + 1)); y++)
    for (let x = Math.max(0, Math.floor(e.cx - e.rx - 1)); x < Math.min(w, Math.ceil(e.cx + e.rx + 1)); x++) {
      const a = soft(Math.hypot((x - e.cx) / e.rx, (y - e.cy) / e.ry));
      for (let k = 0; k < c; k++) t[k * plane + y * w + x]! += a * delta * tint[k]!;
    }
}

/** Adds `delta` along an antialiased straight line through (cx, cy), in place. */
function addLine(t: Float32Array, dims: Dims, l: { cx: number; cy: number; len: number; ang: number; width: number }, delta: number) {
  const { channels: c, height: h, width: w } = dims;
  const plane = h * w;
  const dx = Math.cos(l.ang);
  const dy = Math.sin(l.ang);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const along = (x - l.cx) * dx + (y - l.cy) * dy;
      if (Math.abs(along) > l.len / 2) continue;
      const across = Math.abs(-(x - l.cx) * dy + (y - l.cy) * dx);
      const a = Math.min(1, Math.max(0, l.width / 2 + 0.5 - across));
      if (a > 0) for (let k = 0; k < c; k++) t[k * plane + y * w + x]! += a * delta;
    }
}

/** Keeps every value in 0..1 (in place). */
export function clamp01(t: Float32Array) {
  for (let i = 0; i < t.length; i++) t[i] = Math.min(1, Math.max(0, t[i]!));
}

/** Darker on bright pictures, brighter on dark ones, either way in between. */
const signFor = (mean: number, r: () => number) => (mean > 0.6 ? -1 : mean < 0.3 ? 1 : r() < 0.5 ? -1 : 1);

function stats(t: Float32Array, plane: number, c: number) {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < plane; i++) {
    let v = 0;
    for (let k = 0; k < c; k++) v += t[k * plane + i]!;
    v /= c;
    s += v;
    s2 += v * v;
  }
  const mean = s / plane;
  return { mean, std: Math.sqrt(Math.max(1e-6, s2 / plane - mean * mean)) };
}

/**
 * `count` pseudo-defective copies of the given OK tensors (C x H x W, 0..1), cycling through the
 * kinds; deterministic for a seed.
 */
export function pseudoDefects(
  ok: readonly Float32Array[],
  dims: { channels: number; height: number; width: number },
  count: number,
  seed = 17,
): PseudoDefect[] {
  const { channels: c, height: h, width: w } = dims;
  const plane = h * w;
  const r = rng(seed);
  const out: PseudoDefect[] = [];
  for (let n = 0; n < count; n++) {
    const kind = PSEUDO_KINDS[n % PSEUDO_KINDS.length]!;
    const base = ok[n % ok.length]!;
    const t = base.slice();
    const { mean, std } = stats(base, plane, c);
    const area = (0.005 + r() * 0.055) * plane;
    const rx = Math.sqrt(area / Math.PI) * (0.6 + 0.8 * r());
    const ry = area / Math.PI / rx;
    const cx = rx + r() * Math.max(1, w - 2 * rx);
    const cy = ry + r() * Math.max(1, h - 2 * ry);
    if (kind === 'cutpaste') {
      const donor = ok[Math.floor(r() * ok.length)]!;
      const sx = rx + r() * Math.max(1, w - 2 * rx);
      const sy = ry + r() * Math.max(1, h - 2 * ry);
      const turn = r() < 0.5 ? (r() - 0.5) * Math.PI : 0;
      const cos = Math.cos(turn);
      const sin = Math.sin(turn);
      for (let y = Math.max(0, Math.floor(cy - ry - 1)); y < Math.min(h, Math.ceil(cy + ry + 1)); y++)
        for (let x = Math.max(0, Math.floor(cx - rx - 1)); x < Math.min(w, Math.ceil(cx + rx + 1)); x++) {
          const a = soft(Math.hypot((x - cx) / rx, (y - cy) / ry));
          if (a <= 0) continue;
          const u = x - cx;
          const v = y - cy;
          const px = Math.min(w - 1, Math.max(0, Math.round(sx + u * cos - v * sin)));
          const py = Math.min(h - 1, Math.max(0, Math.round(sy + u * sin + v * cos)));
          for (let k = 0; k < c; k++) t[k * plane + y * w + x] = t[k * plane + y * w + x]! * (1 - a) + donor[k * plane + py * w + px]! * a;
        }
    } else if (kind === 'spot' || kind === 'cast') {
      const sign = signFor(mean, r);
      const delta = (kind === 'spot' ? 1 + 2 * r() : 0.5 + r()) * std * sign;
      const tint = Array.from({ length: c }, () => (kind === 'cast' && c > 1 ? 0.3 + 1.4 * r() : 1));
      addBlob(t, dims, { cx, cy, rx, ry }, delta, tint);
    } else {
      const len = Math.sqrt(area) * (3 + 4 * r());
      const ang = r() * Math.PI;
      const width = 0.8 + r() * 1.5;
      const sign = signFor(mean, r);
      const delta = (1.5 + 2 * r()) * std * sign;
      addLine(t, dims, { cx, cy, len, ang, width }, delta);
    }
    clamp01(t);
    out.push({ kind, tensor: t });
  }
  return out;
}

/**
 * The sensitivity grid: what a trained model is asked to catch, from subtle to obvious. Spots
 * of 0.3, 1 and 3 % of the picture and straight scratches a quarter of its longer side long
 * (1.5 px wide), each 1, 2 and 4 times as far from their surroundings as the picture's own grey
 * levels vary (its standard deviation, σ). Painted into held-out OK pictures, judged by the fold
 * model that never saw them: "a 1 % spot at 2σ: caught 9 times in 10" (training/sensitivity.ts).
 */
export const SENSITIVITY_GRID: readonly { kind: 'spot' | 'line'; size: number; contrast: number }[] = [
  ...[0.3, 1, 3].flatMap((size) => [1, 2, 4].map((contrast) => ({ kind: 'spot' as const, size, contrast }))),
  ...[1, 2, 4].map((contrast) => ({ kind: 'line' as const, size: 25, contrast })),
];

/** A rectangle of pixels, x0/y0 inclusive, x1/y1 exclusive. */
export interface PixelBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Paints one grid cell's defect into `t` (in place) at a random place inside `win` (a margin of
 * 4 % of the picture kept from its edges) and at a random angle; its size and contrast are the
 * whole picture's (`picture`: the mean and σ of its grey levels). Returns where it lies.
 */
export function paintProbe(
  t: Float32Array,
  dims: Dims,
  cell: (typeof SENSITIVITY_GRID)[number],
  win: PixelBox,
  picture: { mean: number; std: number },
  r: () => number,
): PixelBox {
  const { channels: c, height: h, width: w } = dims;
  const delta = cell.contrast * picture.std * signFor(picture.mean, r);
  const margin = 0.04 * Math.min(w, h);
  // a centre that keeps a half-extent (ex, ey) and the margin inside the window
  const place = (ex: number, ey: number) => {
    const span = (lo: number, hi: number) => (hi > lo ? lo + r() * (hi - lo) : (lo + hi) / 2);
    return [span(win.x0 + ex + margin, win.x1 - ex - margin), span(win.y0 + ey + margin, win.y1 - ey - margin)] as const;
  };
  let ex: number;
  let ey: number;
  let cx: number;
  let cy: number;
  if (cell.kind === 'spot') {
    ex = ey = Math.sqrt(((cell.size / 100) * h * w) / Math.PI);
    [cx, cy] = place(ex, ey);
    addBlob(t, dims, { cx, cy, rx: ex, ry: ey }, delta, new Array<number>(c).fill(1));
  } else {
    const len = (cell.size / 100) * Math.max(w, h);
    const ang = r() * Math.PI;
    [ex, ey] = [Math.abs(Math.cos(ang)) * (len / 2) + 1.5, Math.abs(Math.sin(ang)) * (len / 2) + 1.5];
    [cx, cy] = place(ex, ey);
    addLine(t, dims, { cx, cy, len, ang, width: 1.5 }, delta);
  }
  return {
    x0: Math.max(0, Math.floor(cx - ex)),
    y0: Math.max(0, Math.floor(cy - ey)),
    x1: Math.min(w, Math.ceil(cx + ex)),
    y1: Math.min(h, Math.ceil(cy + ey)),
  };
}

/** The mean and standard deviation of a picture's grey levels (0..1). */
export const greyStats = (t: Float32Array, dims: Dims) => stats(t, dims.height * dims.width, dims.channels);
