import type { RemoteApi, UpstreamClient, UpstreamHealth } from '../runtime/upstream/index.ts';
import type {
  RemoteAlgorithm,
  RemoteAnnotation,
  RemoteAssessment,
  RemoteImage,
  RemoteItem,
  RemoteItemPage,
  RemoteModel,
  RemoteTarget,
} from '../runtime/upstream/remote.ts';
import { builder } from './builder.ts';

/** An upstream with its REST API, as the parent of every Upstream field. */
export interface UpstreamShape {
  client: UpstreamClient;
  api: RemoteApi;
}

/** Remote records remember their upstream so nested fields (a model's algorithm) can call it. */
export type Remote<T> = T & { upstream: UpstreamShape };

export const Upstream = builder.objectRef<UpstreamShape>('Upstream');
export const UpstreamStatus = builder.objectRef<UpstreamHealth>('UpstreamStatus');
export const RemoteTargetRef = builder.objectRef<Remote<RemoteTarget>>('RemoteTarget');
export const RemoteAlgorithmRef = builder.objectRef<Remote<RemoteAlgorithm>>('RemoteAlgorithm');
export const RemoteModelRef = builder.objectRef<Remote<RemoteModel>>('RemoteModel');
export const RemoteItemRef = builder.objectRef<Remote<RemoteItem>>('RemoteItem');
export const RemoteItemPageRef = builder.objectRef<Remote<RemoteItemPage>>('RemoteItemPage');
export const RemoteImageRef = builder.objectRef<RemoteImage>('RemoteImage');
export const RemoteAnnotationRef = builder.objectRef<RemoteAnnotation>('RemoteAnnotation');
export const RemoteAssessmentRef = builder.objectRef<RemoteAssessment>('RemoteAssessment');
export const RemoteUserAssessmentRef = builder.objectRef<NonNullable<RemoteItem['userAssessment']>>('RemoteUserAssessment');
export const RemotePredictionJob = builder.objectRef<{ upstream: string; modelId: string; itemIds: string[]; modelVersion: string | null }>(
  'RemotePredictionJob',
);
