import { type Picture, blurPlane, gauss, luma, sample, valueNoise } from './picture.ts';

/**
 * Defects painted onto real photographs, with a pixel mask as ground truth.
 *
 * Every defect is made to look like the real thing rather than a flat shape: scratches catch the
 * light unevenly along their length, cracks branch and darken what they cross, stains tint the
 * surface they lie on (its grain stays visible), holes have a lit inner wall and a rim, dents
 * show only as shading and a slight distortion of the surface pattern, foreign matter is a piece
 * of another real material with a shadow. Edges are antialiased and blurred like the camera's
 * optics; replaced surfaces get grain like the picture's own. Contrast is relative to the
 * surface's own variation around the defect (a faint defect on gravel is stronger in grey levels
 * than a faint one on plaster), with a floor so that "faint" stays visible to a careful eye.
 */

export const DEFECT_KINDS = ['scratch', 'crack', 'spot', 'stain', 'hole', 'missing', 'foreign', 'dent'] as const;
export type DefectKind = (typeof DEFECT_KINDS)[number];
export const DEFECT_SIZES = ['xs', 's', 'm', 'l'] as const;
export type DefectSize = (typeof DEFECT_SIZES)[number];
export const CONTRASTS = ['faint', 'low', 'high'] as const;
export type Contrast = (typeof CONTRASTS)[number];

/** Mask area as a share of the picture: blobs 0.3 % to 10 %, lines (long and thin) 0.3 % to 2 %. */
const BLOB_AREA: Record<DefectSize, number> = { xs: 0.003, s: 0.01, m: 0.03, l: 0.1 };
const LINE_AREA: Record<DefectSize, number> = { xs: 0.003, s: 0.006, m: 0.012, l: 0.02 };
const LINES: readonly DefectKind[] = ['scratch', 'crack'];

/** Amplitude as a multiple of the local standard deviation of luminance, and its floor. */
const AMPLITUDE: Record<Contrast, { k: number; floor: number }> = {
  faint: { k: 1, floor: 0.06 },
  low: { k: 1.8, floor: 0.1 },
  high: { k: 3, floor: 0.2 },
};
const OPACITY: Record<Contrast, number> = { faint: 0.45, low: 0.7, high: 1 };

export interface DefectSpec {
  kind: DefectKind;
  size: DefectSize;
  contrast: Contrast;
}

export interface GroundTruth extends DefectSpec {
  /** Inclusive pixel box of the mask. */
  box: { xMin: number; yMin: number; xMax: number; yMax: number };
  /** Mask pixels. */
  area: number;
}

export interface PaintOptions {
  /** Another real material, for foreign matter. */
  foreign: Picture;
  /** Keep the defect's centre this share of the picture away from the edges (parts: on the object). */
  margin?: number;
  /** Parts: look for a place with structure (a missing piece must remove something). */
  structured?: boolean;
}

export const targetArea = (spec: DefectSpec, w: number, h: number) => (LINES.includes(spec.kind) ? LINE_AREA : BLOB_AREA)[spec.size] * w * h;

interface Window {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Paints one defect into `pic` (in place); returns its mask and ground truth. */
/**
 * How visible a defect must be: the mean colour change over its mask, in multiples of the
 * surface's own local variation (standard deviation of luminance). A dark hole in a dark gap of
 * moss, or a void that looks like the shadow between two stones, is no defect anyone could see;
 * such a placement is tried again elsewhere (up to 12 times; then the most visible one is kept).
 */
const VISIBILITY: Record<Contrast, number> = { faint: 0.8, low: 1.2, high: 1.8 };

/** Paints one defect into `pic` (in place); returns its mask and ground truth. */
export function paintDefect(pic: Picture, spec: DefectSpec, r: () => number, opts: PaintOptions): { mask: Uint8Array; truth: GroundTruth | null } {
  let best: ReturnType<typeof paintOnce> | null = null;
  for (let attempt = 0; attempt < 12; attempt++) {
    const tryIt = paintOnce(pic, spec, r, opts);
    if (!best || tryIt.visibility > best.visibility) best = tryIt;
    if (tryIt.visibility >= VISIBILITY[spec.contrast]) break;
  }
  return best!.commit();
}

function paintOnce(pic: Picture, spec: DefectSpec, r: () => number, opts: PaintOptions) {
  const { width: w, height: h } = pic;
  const plane = w * h;
  const scale = Math.sqrt(plane) / 256;
  const area = targetArea(spec, w, h);
  const isLine = LINES.includes(spec.kind);
  const lineWidth = isLine ? Math.max(1.4 * Math.sqrt(scale), area / (0.7 * Math.min(w, h))) : 0;
  const extent = isLine ? Math.min(area / lineWidth, 0.7 * Math.min(w, h)) : 2 * Math.sqrt(area / Math.PI);
  const lum = luma(pic);

  const margin = Math.max(opts.margin ?? 0, 0) * Math.min(w, h) + extent / 2 + 3 * scale;
  const pick = (): [number, number] => [margin + r() * Math.max(1, w - 2 * margin), margin + r() * Math.max(1, h - 2 * margin)];
  let [cx, cy] = pick();
  if (opts.structured) {
    let best = localStats(lum, w, h, cx, cy, Math.max(6 * scale, extent / 2)).std;
    for (let k = 0; k < 24; k++) {
      const [x, y] = pick();
      const s = localStats(lum, w, h, x, y, Math.max(6 * scale, extent / 2)).std;
      if (s > best) [best, cx, cy] = [s, x, y];
    }
  }
  const stats = localStats(lum, w, h, cx, cy, Math.max(8 * scale, extent / 2));
  const amp = Math.min(0.7, Math.max(AMPLITUDE[spec.contrast].floor, AMPLITUDE[spec.contrast].k * stats.std));
  const sign = stats.mean < 0.25 ? 1 : stats.mean > 0.75 ? -1 : r() < 0.5 ? -1 : 1;
  const pad = Math.ceil(extent / 2 + 8 * scale + 4);
  const win: Window = {
    x0: Math.max(0, Math.floor(cx - (isLine ? extent / 2 : extent) - pad)),
    y0: Math.max(0, Math.floor(cy - (isLine ? extent / 2 : extent) - pad)),
    x1: Math.min(w, Math.ceil(cx + (isLine ? extent / 2 : extent) + pad)),
    y1: Math.min(h, Math.ceil(cy + (isLine ? extent / 2 : extent) + pad)),
  };
  const ww = win.x1 - win.x0;
  const wh = win.y1 - win.y0;
  // alpha: how much of the defect each pixel of the window carries (the mask is alpha >= 0.5);
  // target: the defect's colour there
  const alpha = new Float32Array(ww * wh);
  const target = new Float32Array(3 * ww * wh);
  const orig = (c: number, x: number, y: number) => pic.rgb[c * plane + y * w + x]!;
  const forEach = (fn: (x: number, y: number, i: number) => void) => {
    for (let y = win.y0; y < win.y1; y++) for (let x = win.x0; x < win.x1; x++) fn(x, y, (y - win.y0) * ww + (x - win.x0));
  };
  const setTarget = (i: number, rr: number, gg: number, bb: number) => {
    target[i] = rr;
    target[ww * wh + i] = gg;
    target[2 * ww * wh + i] = bb;
  };
  // untouched pixels keep their colour: the optics blur below spreads the change over the edge
  forEach((x, y, i) => setTarget(i, orig(0, x, y), orig(1, x, y), orig(2, x, y)));
  const grain = stats.grain;
  const theta = r() * Math.PI;
  const rot = (x: number, y: number): [number, number] => {
    const dx = x + 0.5 - cx;
    const dy = y + 0.5 - cy;
    return [dx * Math.cos(theta) + dy * Math.sin(theta), -dx * Math.sin(theta) + dy * Math.cos(theta)];
  };
  // irregular outline: an ellipse whose radius wobbles with smooth noise
  const wobble = valueNoise(r, ww, wh, Math.max(3, extent / 3));
  const blob = (aspect: number, roughness: number, soft: number) => {
    const rx = Math.sqrt(area / Math.PI / aspect);
    const ry = rx * aspect;
    return (x: number, y: number, i: number) => {
      const [u, v] = rot(x, y);
      const q = Math.sqrt((u / rx) ** 2 + (v / ry) ** 2) - roughness * (wobble[i]! - 0.5) * 2;
      return { q, a: clamp01(((1 - q) * Math.min(rx, ry)) / soft + 0.5), u: u / rx, v: v / ry };
    };
  };

  switch (spec.kind) {
    case 'scratch':
    case 'crack': {
      const paths = spec.kind === 'scratch' ? [bezier(cx, cy, extent, theta, r)] : crackPaths(cx, cy, extent, theta, r, scale);
      const along = valueNoise(r, ww, wh, Math.max(4, extent / 6));
      forEach((x, y, i) => {
        let d = Infinity;
        for (const p of paths) d = Math.min(d, polylineDistance(x + 0.5, y + 0.5, p.points, p.width));
        const a = clamp01(lineWidth / 2 + 0.5 - d);
        if (a <= 0) return;
        alpha[i] = a;
        for (let c = 0; c < 3; c++) {
          const o = orig(c, x, y);
          // scratches catch the light unevenly; cracks are dark, a little less so where they thin out
          const v = spec.kind === 'scratch' ? o + sign * amp * (0.55 + 0.45 * along[i]!) : o * (1 - Math.min(0.92, 1.3 * amp)) - 0.2 * amp;
          target[c * ww * wh + i] = v;
        }
      });
      break;
    }
    case 'spot': {
      // a smudge: strongest in the middle, fading out over its outer third
      const shape = blob(0.6 + 0.4 * r(), 0.1, 2.5 * scale);
      const tint = [1 + (r() - 0.5) * 0.2, 1 + (r() - 0.5) * 0.2, 1 + (r() - 0.5) * 0.2];
      forEach((x, y, i) => {
        const { a, q } = shape(x, y, i);
        if (a <= 0) return;
        alpha[i] = a;
        const d = sign * Math.min(amp, 0.5) * (0.75 + 0.25 * clamp01((1 - q) * 3)) * (0.85 + 0.3 * (wobble[i]! - 0.5));
        setTarget(i, orig(0, x, y) + d * tint[0]!, orig(1, x, y) + d * tint[1]!, orig(2, x, y) + d * tint[2]!);
      });
      break;
    }
    case 'stain': {
      const shape = blob(0.5 + 0.5 * r(), 0.35, 3 * scale);
      const tints = [
        [0.62, 0.34, 0.14], // rust
        [0.3, 0.27, 0.2], // oil
        [0.45, 0.45, 0.45], // water (darkens)
        [0.25, 0.3, 0.55], // ink
      ];
      const tint = tints[Math.floor(r() * tints.length)]!;
      const m = Math.max(tint[0]!, tint[1]!, tint[2]!);
      const strength = Math.min(0.85, 0.15 + 1.4 * amp);
      const ring = r() < 0.5;
      forEach((x, y, i) => {
        const { a, q } = shape(x, y, i);
        if (a <= 0) return;
        alpha[i] = a;
        const rim = ring ? 0.25 * Math.exp(-(((q - 0.9) / 0.08) ** 2)) : 0;
        const f = (c: number) => orig(c, x, y) * (1 - strength + strength * (tint[c]! / m) * (0.85 - rim));
        setTarget(i, f(0), f(1), f(2));
      });
      break;
    }
    case 'hole': {
      const shape = blob(0.65 + 0.35 * r(), 0.08, 0.8 * scale);
      const light = r() * 2 * Math.PI;
      const depth = { faint: 0.55, low: 0.3, high: 0.08 }[spec.contrast];
      forEach((x, y, i) => {
        const { a, q, u, v } = shape(x, y, i);
        // a shadow just outside the rim on the far side, a lit rim on the near side
        const facing = u * Math.cos(light) + v * Math.sin(light);
        const edge = Math.exp(-(((q - 1) / 0.12) ** 2));
        if (a <= 0 && edge < 0.05) return;
        alpha[i] = a;
        const wall = clamp01(0.5 + 0.6 * facing);
        for (let c = 0; c < 3; c++) {
          const o = orig(c, x, y);
          const inside = o * depth * (0.4 + 1.2 * wall) + 0.3 * grain * gauss(r);
          const rimV = o + edge * (facing > 0 ? 0.35 : -0.3) * amp;
          target[c * ww * wh + i] = a > 0 ? inside * a + rimV * (1 - a) : rimV;
        }
        if (a <= 0) alpha[i] = edge * 0.3; // the rim changes pixels but is not the hole
      });
      break;
    }
    case 'missing': {
      const shape = blob(0.5 + 0.5 * r(), 0.3, 0.7 * scale);
      // what lies beneath: on a part the bare substrate around the piece; on a texture a dark void
      const under = opts.structured ? ringColour(pic, cx, cy, Math.sqrt(area / Math.PI) * 1.6) : [0.12, 0.11, 0.1].map((v) => v * (0.6 + 0.8 * r()));
      const opacity = OPACITY[spec.contrast];
      forEach((x, y, i) => {
        const { a } = shape(x, y, i);
        if (a <= 0) return;
        const n = grain * gauss(r);
        const t = [0, 1, 2].map((c) => under[c]! + n);
        const changed = Math.abs(lum[y * w + x]! - (0.299 * t[0]! + 0.587 * t[1]! + 0.114 * t[2]!));
        // only where something was there to go missing
        alpha[i] = changed > 0.02 || !opts.structured ? a : 0;
        for (let c = 0; c < 3; c++) target[c * ww * wh + i] = orig(c, x, y) + (t[c]! - orig(c, x, y)) * opacity;
      });
      break;
    }
    case 'foreign': {
      const shape = blob(0.3 + 0.7 * r(), 0.3, 0.8 * scale);
      const f = opts.foreign;
      const ox = r() * Math.max(1, f.width - ww);
      const oy = r() * Math.max(1, f.height - wh);
      const opacity = OPACITY[spec.contrast];
      const sh = 2.5 * scale;
      forEach((x, y, i) => {
        const { a } = shape(x, y, i);
        const shadow = shape(Math.round(x - sh), Math.round(y - sh), i).a;
        if (a <= 0 && shadow <= 0) return;
        alpha[i] = a;
        for (let c = 0; c < 3; c++) {
          const o = orig(c, x, y) * (1 - 0.35 * opacity * shadow * (1 - a));
          const piece = sample(f, c, ox + x - win.x0 + 0.5, oy + y - win.y0 + 0.5);
          target[c * ww * wh + i] = o + (piece - o) * a * opacity;
        }
        alpha[i] = a;
        if (a <= 0) alpha[i] = 0.01; // shadow only: changes pixels, not in the mask
      });
      break;
    }
    case 'dent': {
      const aspect = 0.5 + 0.5 * r();
      // mask where the height is >= 1/4 of its peak: exp(-2 q^2) >= 0.25 -> q <= 0.83
      const rx = Math.sqrt(area / Math.PI / aspect) / 0.83;
      const ry = rx * aspect;
      const light = r() * 2 * Math.PI;
      const shade = Math.min(0.9, 2.6 * amp);
      forEach((x, y, i) => {
        const [u, v] = rot(x, y);
        const q2 = (u / rx) ** 2 + (v / ry) ** 2;
        if (q2 > 4) return;
        const hgt = Math.exp(-2 * q2);
        // surface slope in picture coordinates
        const gu = (-4 * u * hgt) / (rx * rx);
        const gv = (-4 * v * hgt) / (ry * ry);
        const gx = gu * Math.cos(theta) - gv * Math.sin(theta);
        const gy = gu * Math.sin(theta) + gv * Math.cos(theta);
        const lit = (gx * Math.cos(light) + gy * Math.sin(light)) * Math.min(rx, ry);
        alpha[i] = hgt >= 0.25 ? 1 : hgt * 0.5;
        const warp = 0.12 * Math.min(rx, ry);
        for (let c = 0; c < 3; c++) target[c * ww * wh + i] = sample(pic, c, x + 0.5 - warp * gx, y + 0.5 - warp * gy) * (1 + shade * lit);
      });
      break;
    }
  }

  // optics: the change is as sharp as the camera, no sharper
  const blend = alpha.map((a) => (a > 0 ? 1 : 0));
  blurPlane(blend, ww, wh, 0.5 * Math.sqrt(scale));
  let change = 0;
  let inMask = 0;
  forEach((x, y, i) => {
    if (alpha[i]! < 0.5) return;
    let d2 = 0;
    for (let c = 0; c < 3; c++) d2 += (clamp01(target[c * ww * wh + i]!) - orig(c, x, y)) ** 2;
    change += Math.sqrt(d2 / 3);
    inMask++;
  });
  const visibility = inMask ? change / inMask / Math.max(stats.std, 0.02) : 0;
  const commit = () => {
    const mask = new Uint8Array(plane);
    let box = { xMin: w, yMin: h, xMax: -1, yMax: -1 };
    let count = 0;
    forEach((x, y, i) => {
      const b = blend[i]!;
      if (b > 0) for (let c = 0; c < 3; c++) pic.rgb[c * plane + y * w + x] = clamp01(orig(c, x, y) + (target[c * ww * wh + i]! - orig(c, x, y)) * b);
      if (alpha[i]! >= 0.5) {
        mask[y * w + x] = 1;
        count++;
        box = { xMin: Math.min(box.xMin, x), yMin: Math.min(box.yMin, y), xMax: Math.max(box.xMax, x), yMax: Math.max(box.yMax, y) };
      }
    });
    return { mask, truth: count ? { ...spec, box, area: count } : null };
  };
  return { visibility, commit };
}

const clamp01 = (v: number) => (v < 0 ? 0 : Math.min(v, 1));

/** Mean, standard deviation and grain (robust high-frequency noise) of luminance around (cx, cy). */
function localStats(lum: Float32Array, w: number, h: number, cx: number, cy: number, radius: number) {
  const x0 = Math.max(1, Math.floor(cx - radius));
  const x1 = Math.min(w - 1, Math.ceil(cx + radius));
  const y0 = Math.max(1, Math.floor(cy - radius));
  const y1 = Math.min(h - 1, Math.ceil(cy + radius));
  let s = 0;
  let s2 = 0;
  let n = 0;
  const hf: number[] = [];
  const step = Math.max(1, Math.floor((x1 - x0) / 48));
  for (let y = y0; y < y1; y += step)
    for (let x = x0; x < x1; x += step) {
      const v = lum[y * w + x]!;
      s += v;
      s2 += v * v;
      n++;
      hf.push(Math.abs(v - 0.25 * (lum[y * w + x - 1]! + lum[y * w + x + 1]! + lum[(y - 1) * w + x]! + lum[(y + 1) * w + x]!)));
    }
  hf.sort((a, b) => a - b);
  const mean = s / Math.max(1, n);
  return { mean, std: Math.sqrt(Math.max(0, s2 / Math.max(1, n) - mean * mean)), grain: 1.2 * (hf[hf.length >> 1] ?? 0.01) };
}

/** Median colour of a thin ring around (cx, cy): the substrate a missing piece would reveal. */
function ringColour(pic: Picture, cx: number, cy: number, radius: number): number[] {
  const plane = pic.width * pic.height;
  const values: number[][] = [[], [], []];
  for (let k = 0; k < 64; k++) {
    const a = (k / 64) * 2 * Math.PI;
    const x = Math.min(pic.width - 1, Math.max(0, Math.round(cx + radius * Math.cos(a))));
    const y = Math.min(pic.height - 1, Math.max(0, Math.round(cy + radius * Math.sin(a))));
    for (let c = 0; c < 3; c++) values[c]!.push(pic.rgb[c * plane + y * pic.width + x]!);
  }
  return values.map((v) => v.sort((a, b) => a - b)[v.length >> 1]!);
}

interface Path {
  points: [number, number][];
  width: number;
}

/** A gently curved scratch of the given length through (cx, cy). */
function bezier(cx: number, cy: number, length: number, angle: number, r: () => number): Path {
  const dx = (Math.cos(angle) * length) / 2;
  const dy = (Math.sin(angle) * length) / 2;
  const bend = (r() - 0.5) * 0.5 * length;
  const [px, py] = [cx - Math.sin(angle) * bend, cy + Math.cos(angle) * bend];
  const points: [number, number][] = [];
  for (let k = 0; k <= 48; k++) {
    const t = k / 48;
    const a = (1 - t) ** 2;
    const b = 2 * t * (1 - t);
    const c = t * t;
    points.push([a * (cx - dx) + b * px + c * (cx + dx), a * (cy - dy) + b * py + c * (cy + dy)]);
  }
  return { points, width: 1 };
}

/** A crack: a wandering main line with one or two branches; total length `length`. */
function crackPaths(cx: number, cy: number, length: number, angle: number, r: () => number, scale: number): Path[] {
  const step = 3 * scale;
  const walk = (x: number, y: number, dir: number, len: number): [number, number][] => {
    const pts: [number, number][] = [[x, y]];
    for (let s = 0; s < len; s += step) {
      dir += (r() - 0.5) * 0.7;
      x += Math.cos(dir) * step;
      y += Math.sin(dir) * step;
      pts.push([x, y]);
    }
    return pts;
  };
  const main = 0.7 * length;
  const a = walk(cx, cy, angle, main / 2);
  const b = walk(cx, cy, angle + Math.PI, main / 2);
  const trunk = [...b.reverse(), ...a.slice(1)];
  const paths: Path[] = [{ points: trunk, width: 1 }];
  const branches = r() < 0.5 ? 1 : 2;
  for (let k = 0; k < branches; k++) {
    const from = trunk[Math.floor(trunk.length * (0.2 + 0.6 * r()))]!;
    paths.push({ points: walk(from[0], from[1], angle + (r() < 0.5 ? 1 : -1) * (0.5 + 0.6 * r()), (0.3 * length) / branches), width: 0.7 });
  }
  return paths;
}

/** Distance from (x, y) to the polyline, divided by the path's relative width (thinner branches). */
function polylineDistance(x: number, y: number, pts: readonly (readonly [number, number])[], width: number) {
  let best = Infinity;
  for (let k = 0; k + 1 < pts.length; k++) {
    const [ax, ay] = pts[k]!;
    const [bx, by] = pts[k + 1]!;
    const vx = bx - ax;
    const vy = by - ay;
    const t = clamp01(((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy || 1));
    best = Math.min(best, Math.hypot(x - ax - t * vx, y - ay - t * vy));
  }
  return best / width;
}
