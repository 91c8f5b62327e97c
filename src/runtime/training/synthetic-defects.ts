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
    const soft = (q: number) => Math.min(1, Math.max(0, (1 - q) * 4));
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
      const sign = mean > 0.6 ? -1 : mean < 0.3 ? 1 : r() < 0.5 ? -1 : 1;
      const delta = (kind === 'spot' ? 1 + 2 * r() : 0.5 + r()) * std * sign;
      const tint = Array.from({ length: c }, () => (kind === 'cast' && c > 1 ? 0.3 + 1.4 * r() : 1));
      for (let y = Math.max(0, Math.floor(cy - ry - 1)); y < Math.min(h, Math.ceil(cy + ry + 1)); y++)
        for (let x = Math.max(0, Math.floor(cx - rx - 1)); x < Math.min(w, Math.ceil(cx + rx + 1)); x++) {
          const a = soft(Math.hypot((x - cx) / rx, (y - cy) / ry));
          for (let k = 0; k < c; k++) t[k * plane + y * w + x]! += a * delta * tint[k]!;
        }
    } else {
      const len = Math.sqrt(area) * (3 + 4 * r());
      const ang = r() * Math.PI;
      const width = 0.8 + r() * 1.5;
      const sign = mean > 0.6 ? -1 : mean < 0.3 ? 1 : r() < 0.5 ? -1 : 1;
      const delta = (1.5 + 2 * r()) * std * sign;
      const dx = Math.cos(ang);
      const dy = Math.sin(ang);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const along = (x - cx) * dx + (y - cy) * dy;
          if (Math.abs(along) > len / 2) continue;
          const across = Math.abs(-(x - cx) * dy + (y - cy) * dx);
          const a = Math.min(1, Math.max(0, width / 2 + 0.5 - across));
          if (a > 0) for (let k = 0; k < c; k++) t[k * plane + y * w + x]! += a * delta;
        }
    }
    for (let i = 0; i < t.length; i++) t[i] = Math.min(1, Math.max(0, t[i]!));
    out.push({ kind, tensor: t });
  }
  return out;
}
