import { MAX_REGION_LABEL, MAX_REGION_POINTS, MAX_SENSITIVITY, MIN_SENSITIVITY } from '../runtime/images/regions.ts';
import { RegionMode as RegionModeValues, type Region } from '../runtime/store/types.ts';
import type { RegionsOf } from '../runtime/targets/targets.ts';
import { builder } from './builder.ts';

export const RegionMode = builder.enumType('RegionMode', {
  description: 'INCLUDE: once a target or model has any, only included area is judged. EXCLUDE: never judged, never raises a defect',
  values: Object.values(RegionModeValues),
});

export const RegionPoint = builder.objectRef<[number, number]>('RegionPoint').implement({
  description: "A polygon vertex as fractions of the picture's width (x, to the right) and height (y, down), 0..1",
  fields: (t) => ({
    x: t.float({ resolve: (p) => p[0] }),
    y: t.float({ resolve: (p) => p[1] }),
  }),
});

export const RegionType = builder.objectRef<Region>('Region').implement({
  description: 'A region of interest: a polygon on the picture (see docs/regions.md)',
  fields: (t) => ({
    mode: t.field({ type: RegionMode, resolve: (r) => r.mode }),
    points: t.field({ type: [RegionPoint], resolve: (r) => r.points }),
    sensitivity: t.exposeFloat('sensitivity', {
      description: 'Factor on the anomaly map inside an INCLUDE region (2: a defect half as strong is found); 1 for EXCLUDE',
    }),
    label: t.exposeString('label', { nullable: true }),
  }),
});

export const RegionPointInput = builder.inputType('RegionPointInput', {
  fields: (t) => ({
    x: t.float({ required: true, description: "0..1, a fraction of the picture's width from the left" }),
    y: t.float({ required: true, description: "0..1, a fraction of the picture's height from the top" }),
  }),
});

export const RegionInput = builder.inputType('RegionInput', {
  fields: (t) => ({
    mode: t.field({ type: RegionMode, required: true }),
    points: t.field({ type: [RegionPointInput], required: true, description: `3..${MAX_REGION_POINTS} vertices, in order; the polygon closes itself` }),
    sensitivity: t.float({ description: `${MIN_SENSITIVITY}..${MAX_SENSITIVITY}, default 1; only INCLUDE regions take one` }),
    label: t.string({ description: `A name for people (at most ${MAX_REGION_LABEL} characters)` }),
  }),
});

export const SetRegionsPayload = builder.objectRef<RegionsOf>('SetRegionsPayload');
