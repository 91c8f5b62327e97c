import type { AlgorithmDefinition } from '../store/store.ts';
import type { ModelRecord } from '../store/types.ts';

export interface TrainRequest {
  algorithmId: string;
  name?: string | null;
  /** Items to learn from; default: every active training item of the target. */
  itemIds?: readonly string[] | null;
  /** Parameter overrides by parameter id or by name. */
  overrideParams?: readonly { parameterId?: string | null; name?: string | null; value: string }[] | null;
  targetId: string;
}

export interface TrainingLogger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

/**
 * Trains models off the event loop (worker threads), through the `training` job queue. Progress
 * goes to the model record and to the `trainingProgress` topic.
 */
export interface TrainingService {
  /** The algorithm catalogue (synced into the store at start). */
  readonly algorithms: readonly AlgorithmDefinition[];
  /** Validates, creates the model as QUEUED and queues the job. Returns at once. */
  train(request: TrainRequest): Promise<ModelRecord>;
  /** Stops a queued or running job; the model ends CANCELLED. */
  cancel(modelId: string): Promise<ModelRecord>;
  /** Deals with jobs a previous process left QUEUED or TRAINING (run again). */
  recover(): Promise<void>;
  /** Stops accepting jobs and ends running ones (they are left resumable). */
  close(): Promise<void>;
}
