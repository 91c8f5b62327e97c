import type { ParamValues, ParameterDefinition } from './types.ts';

/**
 * Parameter data types as the catalogue shows them: 'int', 'float', 'bool', 'string',
 * 'int2' / 'float2' (a pair written "a,b").
 */
export const DataType = {
  INT: 'int',
  FLOAT: 'float',
  BOOL: 'bool',
  STRING: 'string',
  INT2: 'int2',
  FLOAT2: 'float2',
} as const;

export function param(
  name: string,
  dataType: string,
  value: string | null,
  range: [string | null, string | null],
  displayName: string,
  modelParameter = false,
): ParameterDefinition {
  return { name, displayName, dataType, value, rangeLower: range[0], rangeUpper: range[1], modelParameter };
}

/** Parameters every algorithm here has: the predict parameters and the heatmap scale. */
export const commonParameters = (): ParameterDefinition[] => [
  // empty = chosen from the data (F1-best with NG images, else from the held-out OK scores)
  param('threshold', DataType.FLOAT, null, ['0', '1000000'], 'Threshold (empty: chosen from data)', true),
  param('ignore_outer', DataType.INT, '0', ['0', '10000'], 'Ignored border (pixels)', true),
  param('min_detected_area', DataType.INT, '0', ['0', '100000000'], 'Minimum detected area (pixels)', true),
  // empty = from the data: typical OK level .. twice the threshold's distance above it
  param('anomaly_range', DataType.FLOAT2, null, ['0,0', '1000000,1000000'], 'Heatmap colour range (empty: from data)'),
  param('input_size', DataType.INT, '128', ['32', '512'], 'Model input size (pixels, square)'),
  // 0 = automatic (tiling.ts in training): camera-size pictures are judged in tiles
  param(
    'tile_long_side',
    DataType.INT,
    '0',
    ['0', '16384'],
    'Tiles: long side (pixels) of the copy of each picture cut into input-size tiles; 0: automatic (pictures over 3x the input size are cut from a copy 4x the input size); at most the input size: whole pictures, shrunk',
  ),
];

function parseNumbers(raw: string, type: string): number[] | null {
  const parts = type === DataType.INT2 || type === DataType.FLOAT2 ? raw.split(',') : [raw];
  if ((type === DataType.INT2 || type === DataType.FLOAT2) && parts.length !== 2) return null;
  const nums = parts.map((p) => Number(p.trim().replace(/^\(|\)$/g, '')));
  if (nums.some((n) => !Number.isFinite(n))) return null;
  if ((type === DataType.INT || type === DataType.INT2) && nums.some((n) => !Number.isInteger(n))) return null;
  return nums;
}

/**
 * Checks one value against its definition; returns a readable reason when it is refused.
 * Ranges are inclusive; pairs are checked element-wise.
 */
export function checkValue(def: ParameterDefinition, raw: string): string | null {
  const t = def.dataType;
  if (t === DataType.STRING) return null;
  if (t === DataType.BOOL) return /^(true|false|0|1)$/i.test(raw.trim()) ? null : `${def.name} must be true or false`;
  const nums = parseNumbers(raw.trim(), t);
  if (!nums) return `${def.name} must be ${describe(t)}, got "${raw}"`;
  const lo = def.rangeLower === null ? null : parseNumbers(def.rangeLower, t === DataType.INT || t === DataType.FLOAT ? t : t);
  const hi = def.rangeUpper === null ? null : parseNumbers(def.rangeUpper, t);
  for (let i = 0; i < nums.length; i++) {
    if (lo && nums[i]! < lo[i]!) return `${def.name} must be at least ${def.rangeLower}, got "${raw}"`;
    if (hi && nums[i]! > hi[i]!) return `${def.name} must be at most ${def.rangeUpper}, got "${raw}"`;
  }
  return null;
}

function describe(t: string) {
  return t === DataType.INT ? 'an integer' : t === DataType.INT2 ? 'two integers "a,b"' : t === DataType.FLOAT2 ? 'two numbers "a,b"' : 'a number';
}

/** Defaults merged with overrides (by name). Empty defaults stay out. */
export function effectiveParams(defs: readonly ParameterDefinition[], overrides: Record<string, string>): ParamValues {
  const out: ParamValues = {};
  for (const d of defs) if (d.value !== null && d.value !== '') out[d.name] = d.value;
  for (const [k, v] of Object.entries(overrides)) if (v.trim() !== '') out[k] = v.trim();
  return out;
}

// Readers used by the algorithms (the values were checked when the job was accepted).
export const num = (p: ParamValues, name: string, fallback: number): number => {
  const v = p[name];
  return v === undefined || v === '' ? fallback : Number(v);
};
export const pair = (p: ParamValues, name: string, fallback: [number, number]): [number, number] => {
  const v = p[name];
  if (v === undefined || v === '') return fallback;
  const [a, b] = v.split(',').map((s) => Number(s.trim().replace(/^\(|\)$/g, '')));
  return [a ?? fallback[0], b ?? a ?? fallback[1]];
};
export const optionalNum = (p: ParamValues, name: string): number | null => {
  const v = p[name];
  return v === undefined || v === '' ? null : Number(v);
};
