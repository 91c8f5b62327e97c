import { builder } from './builder.ts';

/** A signed, expiring link to a file the server prepared (export archive, CSV). */
export interface DownloadShape {
  url: string;
  expiresAt: string;
}

/** A background prediction, as the REST predict answers it. */
export interface PredictionJobShape {
  id: string;
  modelId: string;
  itemIds: string[];
  modelVersion: string;
  createdAt: string;
}

export const Download = builder.objectRef<DownloadShape>('Download');
export const PredictionJob = builder.objectRef<PredictionJobShape>('PredictionJob');
