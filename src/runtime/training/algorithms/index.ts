import { alignedPatch } from './aligned-patch.ts';
import { auto } from './auto.ts';
import { localPattern } from './local-pattern.ts';
import { patchSample } from './patch-sample.ts';
import { patternMatching } from './pattern-matching.ts';
import { reconstructor } from './reconstructor.ts';
import type { Algorithm } from './types.ts';

/** The catalogue, in the order `algorithms` lists it. */
export const ALGORITHMS: readonly Algorithm[] = [reconstructor, localPattern, patternMatching, patchSample, alignedPatch, auto];

export function algorithmById(id: string): Algorithm | undefined {
  return ALGORITHMS.find((a) => a.definition.id === id);
}
