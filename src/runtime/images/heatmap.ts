import sharp from 'sharp';
import { opaqueUpright } from './opaque.ts';

/** Longest side of a rendered heatmap overlay; larger pictures are scaled down for it. */
export const HEATMAP_MAX_SIDE = 1024;
/** Name of the heatmap overlay image of an assessment. */
export const HEATMAP_NAME = 'heatmap.png';

/** Size of the overlay rendered for an original picture of width x height. */
export function overlaySize(width: number, height: number): { width: number; height: number } {
  const k = Math.min(1, HEATMAP_MAX_SIDE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) };
}

/**
 * Jet-like colour of t in 0..1: dark blue, blue, cyan, yellow, red, dark red. The scale is fixed
 * by the model's anomalyRange (not by each map's own min/max), so heatmaps compare across results.
 */
export function jet(t: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, x)));
  return [c(1.5 - Math.abs(4 * v - 3)), c(1.5 - Math.abs(4 * v - 2)), c(1.5 - Math.abs(4 * v - 1))];
}

export interface HeatmapInput {
  /** Original picture (any format sharp reads). */
  image: Uint8Array;
  /** Anomaly map, row-major mapHeight x mapWidth. */
  map: Float32Array;
  mapWidth: number;
  mapHeight: number;
  /** Map values at or below lo are blue, at or above hi red. */
  anomalyRange: readonly [number, number];
  /** Opacity of the colour layer, 0..1. */
  alpha?: number;
}

/**
 * The heatmap overlay PNG: the map coloured on the fixed scale, smoothly scaled to the picture
 * and blended over it. Sized by `overlaySize`.
 */
export async function renderHeatmap(input: HeatmapInput): Promise<{ png: Buffer; width: number; height: number }> {
  const { map, mapWidth: w, mapHeight: h } = input;
  const [lo, hi] = input.anomalyRange;
  const span = hi - lo || 1;
  const alpha = Math.round(255 * (input.alpha ?? 0.5));
  const rgba = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const [r, g, b] = jet((map[i]! - lo) / span);
    rgba[i * 4] = r;
    rgba[i * 4 + 1] = g;
    rgba[i * 4 + 2] = b;
    rgba[i * 4 + 3] = alpha;
  }
  const meta = await sharp(input.image).metadata();
  const base = (await opaqueUpright(input.image, meta)).toColourspace('srgb');
  const oriented = meta.autoOrient ?? { width: meta.width ?? w, height: meta.height ?? h };
  const size = overlaySize(oriented.width, oriented.height);
  const layer = await sharp(rgba, { raw: { width: w, height: h, channels: 4 } })
    .resize(size.width, size.height, { fit: 'fill', kernel: 'cubic' })
    .png({ compressionLevel: 1 })
    .toBuffer();
  const png = await base
    .resize(size.width, size.height, { fit: 'fill' })
    .composite([{ input: layer, blend: 'over' }])
    .png()
    .toBuffer();
  return { png, ...size };
}
