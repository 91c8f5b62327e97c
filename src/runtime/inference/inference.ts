import type { AssessmentRecord, AssessmentResult, ImageRecord, ModelRecord } from '../store/types.ts';
import type { AdmissionState } from './admission.ts';

export type { AdmissionState } from './admission.ts';

/** One item's verdict without a stored assessment. */
export interface ItemScore {
  itemId: string;
  score: number;
  threshold: number;
  result: AssessmentResult;
}

/**
 * Runs trained models. Sessions are cached per model with a memory bound; concurrent requests
 * for one model share `session.run` calls through a dynamic micro-batcher.
 */
export interface InferenceService {
  /** The execution provider in use: 'cuda' or 'cpu'. */
  readonly provider: string;
  /**
   * Judges each item with the model, stores the assessments (boxes, heatmap overlay) and publishes
   * `predictionResult` for each. Resolves when every assessment is stored, in itemIds order.
   */
  predict(model: ModelRecord, itemIds: readonly string[]): Promise<AssessmentRecord[]>;
  /**
   * Judges each item as predict does, but stores and publishes nothing: a measurement (the
   * dashboard's threshold preview and model comparison on labelled pictures), not a result for
   * the line.
   */
  score(model: ModelRecord, itemIds: readonly string[]): Promise<ItemScore[]>;
  /**
   * Judges each item for a background prediction `jobId`: every assessment is stored and
   * published as soon as its picture is judged (not at the end), at most one per job and item. A
   * picture that cannot be judged (item gone, picture unreadable) is reported to `onError` and the
   * others go on; a failure to store rejects. Resolves with how many were stored now.
   */
  predictEach(model: ModelRecord, itemIds: readonly string[], opts: { jobId: string; onError: (itemId: string, message: string) => void }): Promise<number>;
  /** Publishes again every stored assessment of background prediction `jobId` (after its worker died). */
  republish(model: ModelRecord, jobId: string): Promise<void>;
  /** Loads and runs the model once so that the first real request is fast. */
  warmUp(model: ModelRecord): Promise<void>;
  /** Drops the cached session (model deleted or replaced). */
  evict(modelId: string): void;
  /**
   * Bytes of an image this runtime draws on demand (the heatmap overlay of an assessment, named
   * `heatmap.png`), or null for an ordinary stored image. The image route calls it before
   * streaming the blob, so nobody pays for a heatmap until somebody looks at it.
   */
  renderImage(image: ImageRecord): Promise<{ body: Buffer; contentType: string } | null>;
  /**
   * True when both inference threads answer within `timeoutMs` (readiness). Starts them when
   * they are not running (they start on first use, and again after a crash).
   */
  ping(timeoutMs: number): Promise<boolean>;
  /**
   * Each model's admission queue (PREDICT_QUEUE_DEPTH, PREDICT_QUEUE_DEADLINE_MS): pictures in
   * the pipeline, waiting, and refused so far. A synchronous `predict` beyond the depth, or whose
   * picture waits past the deadline, fails with UNAVAILABLE (reason QUEUE_FULL / QUEUE_DEADLINE,
   * `retryAfter` seconds).
   */
  admission(): Record<string, AdmissionState>;
  /** Sizes of the batches `session.run` actually ran, newest last (bounded). */
  batchSizes(): readonly number[];
  /** Inference threads given up inside a run that never ended (INFERENCE_RUN_TIMEOUT_MS); the process must exit hard. */
  readonly stuckThreads?: number;
  close(): Promise<void>;
}
