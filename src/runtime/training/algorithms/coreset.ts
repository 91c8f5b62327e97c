import { gaussian, rng } from './random.ts';

/**
 * Greedy k-center coreset (PatchCore): repeatedly takes the point farthest from those already
 * taken, so the memory bank covers every kind of OK patch, rare ones included, with few entries.
 * Distances are measured after a seeded random projection to `projectTo` dimensions
 * (Johnson-Lindenstrauss), which keeps the selection cheap; the bank keeps the full vectors.
 *
 * `points` is row-major n x d. Returns the chosen row indices in the order taken.
 */
export function greedyCoreset(
  points: Float32Array,
  n: number,
  d: number,
  m: number,
  opts: { projectTo?: number; seed?: number; onStep?: (f: number) => void } = {},
): Int32Array {
  const take = Math.min(m, n);
  const r = rng(opts.seed ?? 1);
  const proj = project(points, n, d, Math.min(d, opts.projectTo ?? 24), r);
  const p = proj.length / n; // a multiple of 4

  const minDist = new Float32Array(n).fill(Infinity);
  const chosen = new Int32Array(take);
  let next = Math.floor(r() * n);
  const every = Math.max(1, Math.floor(take / 20));
  for (let c = 0; c < take; c++) {
    chosen[c] = next;
    const center = proj.slice(next * p, next * p + p);
    let best = -1;
    let bestIdx = 0;
    for (let i = 0; i < n; i++) {
      // unrolled by 4: this loop is most of a Patch Sample training
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      const o = i * p;
      for (let j = 0; j < p; j += 4) {
        const d0 = proj[o + j]! - center[j]!;
        const d1 = proj[o + j + 1]! - center[j + 1]!;
        const d2 = proj[o + j + 2]! - center[j + 2]!;
        const d3 = proj[o + j + 3]! - center[j + 3]!;
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
      }
      const s = s0 + s1 + s2 + s3;
      const cur = s < minDist[i]! ? (minDist[i] = s) : minDist[i]!;
      if (cur > best) {
        best = cur;
        bestIdx = i;
      }
    }
    next = bestIdx;
    if (opts.onStep && c % every === 0) opts.onStep(c / take);
  }
  return chosen;
}

/** Rows projected to `p` random directions (or copied when p = d), padded to a multiple of 4. */
function project(points: Float32Array, n: number, d: number, p: number, r: () => number): Float32Array {
  const p4 = Math.ceil(p / 4) * 4;
  const out = new Float32Array(n * p4);
  if (p >= d) {
    for (let i = 0; i < n; i++) out.set(points.subarray(i * d, (i + 1) * d), i * p4);
    return out;
  }
  const mat = new Float32Array(d * p);
  for (let i = 0; i < mat.length; i++) mat[i] = gaussian(r) / Math.sqrt(p);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < d; k++) {
      const v = points[i * d + k]!;
      if (v === 0) continue;
      for (let j = 0; j < p; j++) out[i * p4 + j]! += v * mat[k * p + j]!;
    }
  return out;
}
