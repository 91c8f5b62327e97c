import { badInput } from '../../errors.ts';
import { RegionMode, type Region } from '../store/types.ts';

/** Bounds on what a target or a model may carry (a drawn polygon has tens of points). */
export const MAX_REGIONS = 32;
export const MAX_REGION_POINTS = 200;
export const MIN_SENSITIVITY = 0.1;
export const MAX_SENSITIVITY = 10;
export const MAX_REGION_LABEL = 100;

/** A region as callers hand it in (GraphQL, REST, an archive's manifest): not yet checked. */
export interface RegionInput {
  mode: string;
  /** [x, y] pairs (checked here: anything else is refused). */
  points: readonly (readonly number[])[];
  sensitivity?: number | null;
  label?: string | null;
}

const inUnit = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;

/** Twice the signed area (shoelace); 0 for points on one line. */
function doubleArea(points: readonly (readonly number[])[]): number {
  let a = 0;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) a += points[j]![0]! * points[i]![1]! - points[i]![0]! * points[j]![1]!;
  return a;
}

/**
 * Checks regions and answers them as stored; BAD_USER_INPUT naming the region (by its index in
 * `argument`) and what is wrong with it. `argument` is the input's name in the caller's API.
 */
export function validateRegions(input: readonly RegionInput[], argument = 'regions'): Region[] {
  if (input.length > MAX_REGIONS) throw badInput(`${argument}: at most ${MAX_REGIONS} regions, got ${input.length}`, { argument });
  return input.map((r, i) => {
    const at = `${argument}[${i}]`;
    const fail = (what: string, message: string) => badInput(`${at}${what}: ${message}`, { argument, index: i });
    const mode = String(r.mode).toUpperCase();
    if (mode !== RegionMode.INCLUDE && mode !== RegionMode.EXCLUDE) throw fail('.mode', `must be INCLUDE or EXCLUDE, got "${r.mode}"`);
    const points = r.points;
    if (!Array.isArray(points) || points.length < 3)
      throw fail('.points', `a polygon needs at least 3 points, got ${Array.isArray(points) ? points.length : 0}`);
    if (points.length > MAX_REGION_POINTS) throw fail('.points', `at most ${MAX_REGION_POINTS} points per polygon, got ${points.length}`);
    points.forEach((p, k) => {
      if (!Array.isArray(p) || p.length !== 2) throw fail(`.points[${k}]`, 'a point is an x and a y');
      if (!inUnit(p[0])) throw fail(`.points[${k}].x`, `must be within 0..1 (a fraction of the picture's width), got ${p[0]}`);
      if (!inUnit(p[1])) throw fail(`.points[${k}].y`, `must be within 0..1 (a fraction of the picture's height), got ${p[1]}`);
    });
    if (Math.abs(doubleArea(points)) < 1e-12) throw fail('.points', 'the polygon has no area (its points lie on one line)');
    let sensitivity = r.sensitivity ?? 1;
    if (!Number.isFinite(sensitivity) || sensitivity < MIN_SENSITIVITY || sensitivity > MAX_SENSITIVITY) {
      throw fail('.sensitivity', `must be within ${MIN_SENSITIVITY}..${MAX_SENSITIVITY}, got ${sensitivity}`);
    }
    if (mode === RegionMode.EXCLUDE && sensitivity !== 1) {
      throw fail('.sensitivity', `an EXCLUDE region is never judged, so it takes no sensitivity (got ${sensitivity})`);
    }
    sensitivity = Number(sensitivity);
    const label = r.label ?? null;
    if (label !== null && (typeof label !== 'string' || label.length > MAX_REGION_LABEL)) {
      throw fail('.label', `at most ${MAX_REGION_LABEL} characters`);
    }
    return { mode, points: points.map((p) => [p[0]!, p[1]!] as [number, number]), sensitivity, label };
  });
}

/**
 * The regions at a grid of w x h cells covering the picture (an anomaly map): per cell the factor
 * its value is multiplied by, 0 where it is not judged. A cell belongs to a polygon when its
 * centre lies inside (even-odd rule). Where any INCLUDE region exists, cells outside all of them
 * get 0; an INCLUDE region's cells get its sensitivity, later regions over earlier ones; EXCLUDE
 * regions set their cells to 0 whatever the order. A polygon too small to hold a cell centre
 * still takes the cell under its vertices' mean, so a small region never silently vanishes at a
 * coarse map.
 */
export function rasteriseRegions(regions: readonly Region[], w: number, h: number): Float32Array {
  const includes = regions.filter((r) => r.mode === RegionMode.INCLUDE);
  const gain = new Float32Array(w * h).fill(includes.length > 0 ? 0 : 1);
  for (const r of includes) fillPolygon(r.points, w, h, (i) => (gain[i] = r.sensitivity));
  for (const r of regions) if (r.mode === RegionMode.EXCLUDE) fillPolygon(r.points, w, h, (i) => (gain[i] = 0));
  return gain;
}

/** Calls `set` for every cell whose centre is inside the polygon (scanline, even-odd). */
function fillPolygon(points: readonly (readonly [number, number])[], w: number, h: number, set: (index: number) => void): void {
  const xs: number[] = [];
  let any = false;
  for (let row = 0; row < h; row++) {
    const y = (row + 0.5) / h;
    xs.length = 0;
    for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
      const [x0, y0] = points[j]!;
      const [x1, y1] = points[i]!;
      // half-open in y, so a vertex on the scanline counts once
      if (y0 <= y !== y1 <= y) xs.push(x0 + ((y - y0) / (y1 - y0)) * (x1 - x0));
    }
    if (xs.length < 2) continue;
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      // cells whose centre (col + 0.5) / w lies in [xs[k], xs[k+1])
      const c0 = Math.max(0, Math.ceil(xs[k]! * w - 0.5));
      const c1 = Math.min(w - 1, Math.ceil(xs[k + 1]! * w - 0.5) - 1);
      for (let col = c0; col <= c1; col++) {
        set(row * w + col);
        any = true;
      }
    }
  }
  if (!any) {
    let mx = 0;
    let my = 0;
    for (const [x, y] of points) {
      mx += x;
      my += y;
    }
    const col = Math.min(w - 1, Math.floor((mx / points.length) * w));
    const row = Math.min(h - 1, Math.floor((my / points.length) * h));
    set(row * w + col);
  }
}
