import type { Topics } from '../runtime/pubsub/topics.ts';
import { builder } from './builder.ts';

/** One training step, as published on the `trainingProgress` topic (model loaded per event). */
export const TrainingProgress = builder.objectRef<Topics['trainingProgress']>('TrainingProgress');

/** One stored assessment, as published on the `predictionResult` topic (records loaded per event). */
export const PredictionResult = builder.objectRef<Topics['predictionResult']>('PredictionResult');
