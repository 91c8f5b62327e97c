import type { AssessmentResult, PredictParameters } from '../store/types.ts';

export interface Box {
  /** Pixels of the original (auto-oriented) picture; max edges are exclusive. */
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
  /** Highest anomaly-map value inside the region. */
  score: number;
  /** Area of the region in original-picture pixels. */
  area: number;
}

export interface Judgement {
  result: AssessmentResult;
  score: number;
  threshold: number;
  boxes: Box[];
  detectedObjects: number;
  detectionAccuracy: number;
}

export interface MapInput {
  /** The anomaly map, row-major h x w. */
  map: Float32Array;
  mapWidth: number;
  mapHeight: number;
  score: number;
  /** Size of the original picture (after auto-orientation). */
  width: number;
  height: number;
}

/**
 * Confidence in percent of a verdict, from how far the score lies from the threshold relative
 * to the threshold: 50 at the threshold, rising towards 100 as the relative distance d grows:
 *   accuracy = round(50 + 50 * tanh(2 * d)),  d = |score - threshold| / |threshold|
 * (d = 0.25 -> 73 %, 0.5 -> 88 %, 1 -> 98 %). With a threshold of 0 the distance is taken as is.
 */
export function detectionAccuracy(score: number, threshold: number): number {
  const d = Math.abs(score - threshold) / (Math.abs(threshold) > 1e-12 ? Math.abs(threshold) : 1);
  if (!Number.isFinite(d)) return 100;
  return Math.round(50 + 50 * Math.tanh(2 * d));
}

/**
 * Turns a model's output for one picture into the decision the user sees.
 *
 * - Map cells at or above the threshold form regions (8-connectivity). Cells whose centre lies
 *   within `ignoreOuter` original pixels of the picture's edge are left out.
 * - Regions smaller than `minDetectedArea` original pixels are dropped; the rest become boxes
 *   scaled to original pixels (clipped to the non-ignored area), each scored with the region's
 *   highest map value; boxes come strongest first.
 * - Result: BAD when score >= threshold, except when the map did have cells above the threshold
 *   and every one of them was removed by `ignoreOuter` / `minDetectedArea`: the user has said
 *   those places or sizes don't count, so the picture is GOOD. (A model whose score says BAD
 *   while its map has no cell above the threshold is still BAD: the score is the verdict.)
 * - detectionAccuracy: see `detectionAccuracy`; a verdict turned GOOD by the filters gets 50.
 */
export function judge(input: MapInput, params: PredictParameters): Judgement {
  const { map, mapWidth: w, mapHeight: h, score, width: W, height: H } = input;
  const t = params.threshold;
  const sx = W / w;
  const sy = H / h;
  const outer = Math.max(0, params.ignoreOuter);

  // Map columns/rows whose centre is outside the ignored border.
  const colLo = Math.max(0, Math.ceil(outer / sx - 0.5));
  const colHi = Math.min(w - 1, Math.floor((W - outer) / sx - 0.5 - 1e-9));
  const rowLo = Math.max(0, Math.ceil(outer / sy - 0.5));
  const rowHi = Math.min(h - 1, Math.floor((H - outer) / sy - 0.5 - 1e-9));

  let anyAbove = false;
  for (let i = 0; i < map.length; i++) {
    if (map[i]! >= t) {
      anyAbove = true;
      break;
    }
  }

  const boxes: Box[] = [];
  if (anyAbove && colLo <= colHi && rowLo <= rowHi) {
    const seen = new Uint8Array(w * h);
    const stack = new Int32Array(w * h);
    const cellArea = sx * sy;
    for (let y = rowLo; y <= rowHi; y++) {
      for (let x = colLo; x <= colHi; x++) {
        const start = y * w + x;
        if (seen[start] || map[start]! < t) continue;
        // Flood fill one region.
        let top = 0;
        stack[top++] = start;
        seen[start] = 1;
        let x0 = x, x1 = x, y0 = y, y1 = y, cells = 0, best = -Infinity;
        while (top > 0) {
          const p = stack[--top]!;
          const px = p % w;
          const py = (p - px) / w;
          cells++;
          const v = map[p]!;
          if (v > best) best = v;
          if (px < x0) x0 = px;
          if (px > x1) x1 = px;
          if (py < y0) y0 = py;
          if (py > y1) y1 = py;
          for (let dy = -1; dy <= 1; dy++) {
            const ny = py + dy;
            if (ny < rowLo || ny > rowHi) continue;
            for (let dx = -1; dx <= 1; dx++) {
              const nx = px + dx;
              if (nx < colLo || nx > colHi) continue;
              const q = ny * w + nx;
              if (!seen[q] && map[q]! >= t) {
                seen[q] = 1;
                stack[top++] = q;
              }
            }
          }
        }
        const area = cells * cellArea;
        if (area < params.minDetectedArea) continue;
        boxes.push({
          xMin: Math.max(outer, x0 * sx),
          xMax: Math.min(W - outer, (x1 + 1) * sx),
          yMin: Math.max(outer, y0 * sy),
          yMax: Math.min(H - outer, (y1 + 1) * sy),
          score: best,
          area,
        });
      }
    }
    boxes.sort((a, b) => b.score - a.score);
  }

  const overScore = score >= t;
  const filteredAway = overScore && anyAbove && boxes.length === 0;
  const bad = overScore && !filteredAway;
  return {
    result: bad ? 'BAD' : 'GOOD',
    score,
    threshold: t,
    boxes: bad ? boxes : [],
    detectedObjects: bad ? boxes.length : 0,
    detectionAccuracy: filteredAway ? 50 : detectionAccuracy(score, t),
  };
}
