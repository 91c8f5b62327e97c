import type { Box } from '../src/runtime/inference/postprocess.ts';

/**
 * The quality benchmark's measures.
 * - image AUROC: NG = positive, ranked by the model's `score`.
 * - pixel AUROC: every anomaly map scaled (bilinear) to its picture's pixels, ranked against the
 *   defect masks, over all test pictures (OK and NG) together; pixels taken every `stride`.
 * - box hit: a defect counts as found when its picture is judged BAD at the model's own
 *   threshold and some reported box covers at least half of the defect's box while the overlap
 *   is at least a tenth of the reported box (one box over the whole picture does not count).
 */

/** Area under the ROC curve by ranks (ties share their rank), O(n log n). */
export function aurocOf(scores: Float32Array, labels: Uint8Array): number {
  const n = scores.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0;
  for (let i = 0; i < n; i++) pos += labels[i]!;
  const neg = n - pos;
  if (!pos || !neg) return Number.NaN;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (labels[order[k]!]) rankSum += rank;
    i = j + 1;
  }
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function imageAuroc(ok: readonly number[], ng: readonly number[]): number {
  return aurocOf(Float32Array.from([...ok, ...ng]), Uint8Array.from([...ok.map(() => 0), ...ng.map(() => 1)]));
}

export interface MapSample {
  map: Float32Array;
  mapWidth: number;
  mapHeight: number;
  width: number;
  height: number;
  mask: Uint8Array;
}

/** Pixel AUROC over pictures of any size; the map is stretched over the picture as the model's input was. */
export function pixelAuroc(samples: readonly MapSample[], stride = 2): number {
  let count = 0;
  for (const s of samples) count += Math.ceil(s.width / stride) * Math.ceil(s.height / stride);
  const scores = new Float32Array(count);
  const labels = new Uint8Array(count);
  let o = 0;
  for (const s of samples) {
    const sx = s.mapWidth / s.width;
    const sy = s.mapHeight / s.height;
    for (let y = 0; y < s.height; y += stride) {
      const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), s.mapHeight - 1);
      const y0 = Math.floor(fy);
      const y1 = Math.min(y0 + 1, s.mapHeight - 1);
      const ty = fy - y0;
      for (let x = 0; x < s.width; x += stride) {
        const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), s.mapWidth - 1);
        const x0 = Math.floor(fx);
        const x1 = Math.min(x0 + 1, s.mapWidth - 1);
        const tx = fx - x0;
        const m = s.map;
        const a = m[y0 * s.mapWidth + x0]!;
        const b = m[y0 * s.mapWidth + x1]!;
        const c = m[y1 * s.mapWidth + x0]!;
        const d = m[y1 * s.mapWidth + x1]!;
        scores[o] = a + (b - a) * tx + (c - a) * ty + (a - b - c + d) * tx * ty;
        labels[o++] = s.mask[y * s.width + x]!;
      }
    }
  }
  return aurocOf(scores.subarray(0, o), labels.subarray(0, o));
}

export function boxHit(truth: { xMin: number; yMin: number; xMax: number; yMax: number }, boxes: readonly Box[]): boolean {
  // ground-truth max edges are inclusive pixels, reported ones exclusive
  const g = { x0: truth.xMin, y0: truth.yMin, x1: truth.xMax + 1, y1: truth.yMax + 1 };
  const gArea = (g.x1 - g.x0) * (g.y1 - g.y0);
  return boxes.some((b) => {
    const iw = Math.min(g.x1, b.xMax) - Math.max(g.x0, b.xMin);
    const ih = Math.min(g.y1, b.yMax) - Math.max(g.y0, b.yMin);
    const inter = Math.max(0, iw) * Math.max(0, ih);
    const bArea = (b.xMax - b.xMin) * (b.yMax - b.yMin);
    return inter >= 0.5 * gArea && inter >= 0.1 * bArea;
  });
}

export const round3 = (v: number) => Math.round(v * 1000) / 1000;
