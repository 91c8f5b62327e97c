import { createHash } from 'node:crypto';
import { rasteriseRegions } from '../images/regions.ts';
import { effectiveRegions } from '../store/lookup.ts';
import type { Store } from '../store/store.ts';
import type { ModelRecord, Region } from '../store/types.ts';
import { CostLru } from './lru.ts';
import type { MapInput } from './postprocess.ts';
import { select } from './select.ts';

/** Masks are a float per map cell: 64 MiB holds a few hundred of them at 256 x 256. */
const MASK_CACHE_BYTES = 64 * 1024 * 1024;

/** The regions a model judges with, read once per prediction call. */
export interface RegionPlan {
  modelId: string;
  regions: readonly Region[];
  /** Identifies the regions' content, so a changed set never meets a stale mask. */
  key: string;
}

/**
 * Regions in post-processing: the model's anomaly map is masked (and scaled by sensitivity)
 * before `judge` sees it, so the verdict, the boxes and the heatmap all come from the same
 * masked map. Masks are rasterised once per model, regions and map size, and cached.
 */
export class RegionMasks {
  private readonly masks = new CostLru<string, Float32Array>(MASK_CACHE_BYTES);
  private readonly store: Pick<Store, 'regionSetsByOwners'>;

  constructor(store: Pick<Store, 'regionSetsByOwners'>) {
    this.store = store;
  }

  /** The model's regions (its own, else its target's); null when it has none. */
  async planFor(model: Pick<ModelRecord, 'id' | 'targetId'>): Promise<RegionPlan | null> {
    const { regions } = effectiveRegions(await this.store.regionSetsByOwners([model.id, model.targetId]), model);
    if (regions.length === 0) return null;
    const key = createHash('sha1').update(JSON.stringify(regions)).digest('base64url');
    return { modelId: model.id, regions, key };
  }

  /** The map as post-processing should judge it: unchanged without a plan. */
  apply<T extends MapInput>(out: T, plan: RegionPlan | null, threshold: number): T {
    const gain = this.gainFor(plan, out.mapWidth, out.mapHeight);
    return gain ? { ...out, ...maskMap(out.map, gain, threshold) } : out;
  }

  /** The plan's per-cell gain for a map of this size (cached); null without a plan. */
  gainFor(plan: RegionPlan | null, mapWidth: number, mapHeight: number): Float32Array | null {
    if (!plan) return null;
    const cacheKey = `${plan.modelId}|${plan.key}|${mapWidth}x${mapHeight}`;
    let gain = this.masks.get(cacheKey);
    if (!gain) {
      gain = rasteriseRegions(plan.regions, mapWidth, mapHeight);
      this.masks.set(cacheKey, gain, gain.byteLength + cacheKey.length);
    }
    return gain;
  }
}

/**
 * Judged cells are multiplied by their sensitivity; the others take the median of the judged
 * cells (the map's background as `judge` estimates it), kept below the threshold so that they
 * never seed a box or lift the score. The score becomes the masked map's maximum: what every
 * model built here outputs as its score, and for an imported model whose score is something else,
 * the only score that respects the regions.
 */
export function maskMap(map: Float32Array, gain: Float32Array, threshold: number): { map: Float32Array; score: number } {
  const out = new Float32Array(map.length);
  const judged = new Float32Array(map.length);
  let n = 0;
  let score = -Infinity;
  for (let i = 0; i < map.length; i++) {
    const g = gain[i]!;
    if (g === 0) continue;
    const v = map[i]! * g;
    out[i] = v;
    judged[n++] = v;
    if (v > score) score = v;
  }
  const below = threshold - Math.max(Math.abs(threshold), 1) * 1e-6;
  const fill = Math.min(n > 0 ? select(judged, n, n >> 1) : below, below);
  for (let i = 0; i < map.length; i++) if (gain[i] === 0) out[i] = fill;
  return { map: out, score: n > 0 ? score : fill };
}
