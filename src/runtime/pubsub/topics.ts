import type { ModelStatus } from '../store/types.ts';

/**
 * Every pub/sub topic and its payload. Payloads are plain JSON (ids, not records) so that the
 * in-memory and Redis transports deliver exactly the same thing; subscribers load fresh records.
 */
export interface Topics {
  /** One step of a training job. Channel key: model id. */
  trainingProgress: {
    modelId: string;
    progress: number;
    stage: string;
    status: ModelStatus;
    message: string | null;
    at: string;
  };
  /** An assessment was stored. Channel key: model id. */
  predictionResult: {
    assessmentId: string;
    itemId: string;
    modelId: string;
    targetId: string;
    at: string;
  };
}

export type TopicName = keyof Topics;
