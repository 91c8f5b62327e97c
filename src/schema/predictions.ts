import type { PredictionJobView } from '../runtime/predictions/predictions.ts';
import { PredictionJobStatus as PredictionJobStatusValues, type PredictionJobError as PredictionJobErrorRecord } from '../runtime/store/types.ts';
import { builder } from './builder.ts';

/** A signed, expiring link to a file the server prepared (export archive, CSV). */
export interface DownloadShape {
  url: string;
  expiresAt: string;
}

/** A background prediction with its counts (runtime/predictions). */
export type PredictionJobShape = PredictionJobView;

export const Download = builder.objectRef<DownloadShape>('Download');
export const PredictionJob = builder.objectRef<PredictionJobShape>('PredictionJob');
export const PredictionJobStatus = builder.enumType('PredictionJobStatus', { values: Object.values(PredictionJobStatusValues) });
export const PredictionJobCounts = builder.objectRef<PredictionJobView['counts']>('PredictionJobCounts');
export const PredictionJobError = builder.objectRef<PredictionJobErrorRecord>('PredictionJobError');
