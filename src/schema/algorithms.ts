import type { AlgorithmParameterRecord, AlgorithmRecord } from '../runtime/store/types.ts';
import { builder } from './builder.ts';

export const Algorithm = builder.objectRef<AlgorithmRecord>('Algorithm');
export const AlgorithmParameter = builder.objectRef<AlgorithmParameterRecord>('AlgorithmParameter');
