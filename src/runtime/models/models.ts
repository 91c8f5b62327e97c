import type { ModelActivationRecord, ModelRecord } from '../store/types.ts';

export interface PredictParametersPatch {
  threshold?: number | null;
  ignoreOuter?: number | null;
  minDetectedArea?: number | null;
}

/** A file made for download (a blob without a record: the start-up sweep removes it after an hour). */
export interface PreparedFile {
  key: string;
  contentType: string;
  /** The name browsers save it under. */
  filename: string;
}

/**
 * Models once they exist: activation, deletion, predict parameters, and the archive and results
 * files. Model refs are ids or `"active"` (the default target's active model).
 */
export interface ModelsService {
  /** Makes the model its target's active one (READY only) and loads its session in the background. */
  activate(ref: string, actor?: string | null): Promise<ModelRecord>;
  /** The target's activations, newest first (at most `limit`, 1..100): who activated which model when, and what it replaced. */
  activationHistory(targetId: string, limit?: number): Promise<ModelActivationRecord[]>;
  /** Deletes models with their assessments, stopping their training first; NOT_FOUND naming every unknown id. */
  delete(ids: readonly string[]): Promise<string[]>;
  /** Changes how a trained model judges, without retraining. */
  updatePredictParameters(ref: string, patch: PredictParametersPatch): Promise<ModelRecord>;
  /** A zip of the models (manifest.json and model.onnx per folder), importable by `importArchive`. */
  exportArchive(refs: readonly string[]): Promise<PreparedFile & { models: ModelRecord[] }>;
  /**
   * Imports an archive made by `exportArchive` (or wrapped by hand, see docs/model-archive.md),
   * all or nothing, into `targetId` (default: the default target, created when there is none).
   */
  importArchive(file: Blob, targetId?: string | null): Promise<ModelRecord[]>;
  /** CSV of the models' assessments, one row each. */
  exportResults(refs: readonly string[]): Promise<PreparedFile>;
}
