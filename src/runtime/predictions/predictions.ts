import type { ItemScore } from '../inference/inference.ts';
import type { UploadedFile } from '../items/items.ts';
import type { AssessmentRecord, ItemRecord, PredictionJobCounts, PredictionJobRecord } from '../store/types.ts';

/** A background prediction with its counts: `judged` (stored assessments, `good` + `bad`) and `failed` out of `total`. */
export interface PredictionJobView extends PredictionJobRecord {
  counts: PredictionJobCounts & { total: number; failed: number };
}

/** Judging items with a READY model. Model refs are ids or `"active"` (the default target's active model). */
export interface PredictionsService {
  /** Judges the items now; resolves when every assessment is stored, in `itemIds` order. */
  predict(modelRef: string, itemIds: readonly string[]): Promise<AssessmentRecord[]>;
  /** Judges the items without storing or publishing anything (a measurement), in `itemIds` order. */
  score(modelRef: string, itemIds: readonly string[]): Promise<ItemScore[]>;
  /** Stores the pictures as PREDICTION items of the model's target and judges them, in one call. */
  predictUploaded(modelRef: string, files: readonly UploadedFile[]): Promise<{ items: ItemRecord[]; assessments: AssessmentRecord[] }>;
  /**
   * Records a background prediction and queues it; answers at once. A worker judges the pictures,
   * each result stored and published on `predictionResult` as it is judged; the job survives
   * restarts and workers that die (each picture is judged exactly once).
   */
  request(modelRef: string, itemIds: readonly string[]): Promise<PredictionJobView>;
  /** Background predictions by id (those that exist, any order). */
  jobs(ids: readonly string[]): Promise<PredictionJobView[]>;
  /** Stops a queued or running background prediction (what was judged stays); CONFLICT once it ended. */
  cancelJob(id: string): Promise<PredictionJobView>;
  /** Queues again the background predictions a previous process left unfinished (in-process jobs). */
  recover(): Promise<void>;
  /** Stops running background jobs between pictures (what was judged stays stored). */
  close(): Promise<void>;
}
