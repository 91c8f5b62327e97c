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
  /** A model became its target's active one. Channel key: model id. */
  modelActivated: {
    modelId: string;
    targetId: string;
    at: string;
  };
}

export type TopicName = keyof Topics;

/**
 * What a subscriber's bounded buffer does when it is full (the client reads slower than events
 * arrive):
 * - `drop-oldest`: the oldest buffered event is discarded and counted. Right for progress, where
 *   only the latest state matters and the terminal event (READY/FAILED/CANCELLED) is always kept.
 * - `error`: the subscription ends with an UNAVAILABLE error, so the client knows it missed
 *   results and can resubscribe and refetch, instead of silently losing an assessment.
 */
export const OverflowPolicy = { DROP_OLDEST: 'drop-oldest', ERROR: 'error' } as const;
export type OverflowPolicy = (typeof OverflowPolicy)[keyof typeof OverflowPolicy];

export const topicOverflowPolicy: Record<TopicName, OverflowPolicy> = {
  trainingProgress: OverflowPolicy.DROP_OLDEST,
  predictionResult: OverflowPolicy.ERROR,
  modelActivated: OverflowPolicy.ERROR,
};

export const topicNames = ['trainingProgress', 'predictionResult', 'modelActivated'] as const satisfies readonly TopicName[];
