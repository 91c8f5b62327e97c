import type { GraphBuilder } from './builder.ts';

/** Building blocks shared by the models built here (all NCHW float32). */

export function gaussian1d(sigma: number, radius = Math.max(1, Math.ceil(3 * sigma))): Float32Array {
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/** Pads H and W (reflect by default, so filters see no artificial edge). */
export function pad2d(g: GraphBuilder, x: string, [top, left, bottom, right]: [number, number, number, number], mode = 'reflect'): string {
  if (top === 0 && left === 0 && bottom === 0 && right === 0) return x;
  return g.op('Pad', [x, g.constantInt64([0, 0, top, left, 0, 0, bottom, right])], { mode });
}

/** Separable Gaussian blur of every channel on its own, same size out (reflect border). */
export function blur(g: GraphBuilder, x: string, channels: number, sigma: number): string {
  if (sigma <= 0) return x;
  const k = gaussian1d(sigma);
  const r = (k.length - 1) / 2;
  const kh = new Float32Array(channels * k.length);
  for (let c = 0; c < channels; c++) kh.set(k, c * k.length);
  const p = pad2d(g, x, [r, r, r, r]);
  const h = g.op('Conv', [p, g.constant(kh, [channels, 1, 1, k.length])], { group: channels });
  return g.op('Conv', [h, g.constant(kh, [channels, 1, k.length, 1])], { group: channels });
}

/** Per-channel affine map y = x * scale + shift, with [C] vectors. */
export function affine(g: GraphBuilder, x: string, scale: Float32Array, shift: Float32Array): string {
  const c = scale.length;
  const m = g.op('Mul', [x, g.constant(scale, [1, c, 1, 1])]);
  return g.op('Add', [m, g.constant(shift, [1, c, 1, 1])]);
}

/**
 * The contract's outputs from a [N,1,h,w] map: `anomaly_map` as is, `score` its maximum, so the
 * score and the map live on one scale and the threshold means the same for both.
 */
export function mapAndScore(g: GraphBuilder, map: string, h: number, w: number): void {
  g.output(map, 'anomaly_map', ['N', 1, h, w]);
  const score = g.op('ReduceMax', [map], { axes: [1, 2, 3], keepdims: 0 });
  g.output(score, 'score', ['N']);
}
