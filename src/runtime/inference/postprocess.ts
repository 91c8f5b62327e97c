import { select } from './select.ts';
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
 * Region growing (see `judge`), as fractions of the way from the map's background (its median)
 * up to the threshold (REGION_LOW) and up to the region's peak (REGION_PEAK). Chosen on the
 * synthetic quality bench (bench/quality.ts, seeds 7 and 11, best algorithm per family): texture
 * box hits .883/.872 -> .939/.936, parts .980/.952 -> .986/.966. REGION_PEAK 0.3-0.4 cut the
 * boxes of strong part defects (pattern matching) too tight; 0 let a strong texture defect's
 * blurred skirt make its box several times too large.
 */
const REGION_LOW = 0.5;
const REGION_PEAK = 0.05;

/**
 * Turns a model's output for one picture into the decision the user sees.
 *
 * - Regions start from map cells at or above the threshold (8-connectivity), strongest first,
 *   and grow by hysteresis: a faint defect crosses the threshold only at its core, so a box
 *   drawn at the threshold covers a fraction of it. With b = the map's median (its background,
 *   capped at the threshold) and p = the region's peak, a region is the cells connected to its
 *   peak that reach max(b + REGION_LOW (t - b), b + REGION_PEAK (p - b)): for a faint defect
 *   halfway down to the background; for a very strong one a small share of its own height, so
 *   its blurred skirt does not blow the box up. Cells joined to a region only at the lower
 *   level belong to it (no second box from its skirt) but do not widen its box. When the
 *   background reaches the threshold, regions grow no lower than the threshold. Cells whose
 *   centre lies within `ignoreOuter` original pixels of the picture's edge are left out.
 * - Regions whose box-forming cells cover less than `minDetectedArea` original pixels are
 *   dropped; the rest become boxes scaled to original pixels (clipped to the non-ignored area),
 *   each scored with the region's highest map value; boxes come strongest first.
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
    const inside = (p: number) => {
      const px = p % w;
      const py = (p - px) / w;
      return px >= colLo && px <= colHi && py >= rowLo && py <= rowHi;
    };
    // seeds strongest first, so each region's seed is its peak
    const seeds: number[] = [];
    for (let p = 0; p < map.length; p++) if (map[p]! >= t && inside(p)) seeds.push(p);
    seeds.sort((a, b) => map[b]! - map[a]!);
    // The median by quickselect: a full sort of a tiled picture's stitched map (a million cells)
    // cost hundreds of milliseconds of the main thread.
    const copy = Float32Array.from(map);
    const base = Math.min(select(copy, copy.length, copy.length >> 1), t);
    const low = base + REGION_LOW * (t - base);
    const seen = new Uint8Array(w * h);
    const mark = new Uint8Array(w * h);
    const stack = new Int32Array(w * h);
    const keep = new Uint8Array(w * h);
    const cellArea = sx * sy;
    /** Cells 8-connected to `start` with values >= level (inside the window, not in `done`). */
    const flood = (start: number, level: number, done: Uint8Array, keep?: Uint8Array): number[] => {
      const cells: number[] = [];
      let top = 0;
      stack[top++] = start;
      done[start] = 1;
      while (top > 0) {
        const p = stack[--top]!;
        cells.push(p);
        const px = p % w;
        const py = (p - px) / w;
        for (let dy = -1; dy <= 1; dy++) {
          const ny = py + dy;
          if (ny < rowLo || ny > rowHi) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const nx = px + dx;
            if (nx < colLo || nx > colHi) continue;
            const q = ny * w + nx;
            if (!done[q] && map[q]! >= level && (!keep || keep[q] === 1)) {
              done[q] = 1;
              stack[top++] = q;
            }
          }
        }
      }
      return cells;
    };
    for (const seed of seeds) {
      if (seen[seed]) continue;
      const peak = map[seed]!;
      const component = flood(seed, low, seen);
      const level = Math.max(low, base + REGION_PEAK * (peak - base));
      let cells = component;
      if (level > low) {
        // components are disjoint, so `mark` never needs clearing
        for (const p of component) keep[p] = 1;
        cells = flood(seed, level, mark, keep);
        // One buffer for every region (a new one each cost a map's size per region: on a tiled
        // picture's stitched map, hundreds of milliseconds): cleared where this region set it.
        for (const p of component) keep[p] = 0;
      }
      let x0 = w,
        x1 = -1,
        y0 = h,
        y1 = -1;
      for (const p of cells) {
        const px = p % w;
        const py = (p - px) / w;
        if (px < x0) x0 = px;
        if (px > x1) x1 = px;
        if (py < y0) y0 = py;
        if (py > y1) y1 = py;
      }
      const area = cells.length * cellArea;
      if (area < params.minDetectedArea) continue;
      boxes.push({
        xMin: Math.max(outer, x0 * sx),
        xMax: Math.min(W - outer, (x1 + 1) * sx),
        yMin: Math.max(outer, y0 * sy),
        yMax: Math.min(H - outer, (y1 + 1) * sy),
        score: peak,
        area,
      });
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
