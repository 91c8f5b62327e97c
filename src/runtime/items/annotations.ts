import { badInput } from '../../errors.ts';
import type { NewAnnotation } from '../store/store.ts';
import type { AnnotationInput } from './items.ts';

const MAX_NOTES = 10_000;

/**
 * A client's box checked (finite, inside the picture when its size is known, min <= max, notes
 * bounded), as the store takes it. Boxes are in pixels of the original picture, as the
 * detector's are: one past its edge would train and compare against nothing.
 */
export function checkedAnnotation(input: AnnotationInput, index: number, picture?: { width: number; height: number }): NewAnnotation {
  const where = `annotations[${index}]`;
  for (const key of ['xMin', 'xMax', 'yMin', 'yMax', 'score'] as const) {
    const v = input[key];
    if (v != null && (!Number.isFinite(v) || (key !== 'score' && v < 0))) {
      throw badInput(`${where}.${key} must be a finite number >= 0, got ${v}`, { argument: `${where}.${key}` });
    }
    const edge = key === 'score' || !picture ? null : key.startsWith('x') ? picture.width : picture.height;
    if (v != null && edge !== null && v > edge) {
      throw badInput(`${where}.${key} (${v}) lies outside the ${picture!.width}x${picture!.height} picture`, { argument: `${where}.${key}` });
    }
  }
  if (input.xMin != null && input.xMax != null && input.xMin > input.xMax) {
    throw badInput(`${where}: xMin (${input.xMin}) is greater than xMax (${input.xMax})`, { argument: where });
  }
  if (input.yMin != null && input.yMax != null && input.yMin > input.yMax) {
    throw badInput(`${where}: yMin (${input.yMin}) is greater than yMax (${input.yMax})`, { argument: where });
  }
  if (input.notes != null && input.notes.length > MAX_NOTES) {
    throw badInput(`${where}.notes is longer than ${MAX_NOTES} characters`, { argument: `${where}.notes` });
  }
  return {
    xMin: input.xMin ?? null,
    xMax: input.xMax ?? null,
    yMin: input.yMin ?? null,
    yMax: input.yMax ?? null,
    label: input.label ?? null,
    notes: input.notes ?? null,
    score: input.score ?? null,
  };
}
