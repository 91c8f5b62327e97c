import type { UploadedFile } from '../items/items.ts';
import type { AssessmentRecord, ItemRecord } from '../store/types.ts';

/** A prediction running in the background; each result is stored, then published on `predictionResult`. */
export interface PredictionJobRecord {
  id: string;
  modelId: string;
  itemIds: string[];
  modelVersion: string;
  createdAt: string;
}

/** Judging items with a READY model. Model refs are ids or `"active"` (the default target's active model). */
export interface PredictionsService {
  /** Judges the items now; resolves when every assessment is stored, in `itemIds` order. */
  predict(modelRef: string, itemIds: readonly string[]): Promise<AssessmentRecord[]>;
  /** Stores the pictures as PREDICTION items of the model's target and judges them, in one call. */
  predictUploaded(modelRef: string, files: readonly UploadedFile[]): Promise<{ items: ItemRecord[]; assessments: AssessmentRecord[] }>;
  /** Queues the prediction as a background job and answers at once. */
  request(modelRef: string, itemIds: readonly string[]): Promise<PredictionJobRecord>;
  /** Stops running background jobs between pictures (what was judged stays stored). */
  close(): Promise<void>;
}
