import type { AnnotationRecord, ItemRecord, TargetRecord } from '../store/types.ts';

/** Pictures sent by a client, as the HTTP layer hands them over (web `File`s). */
export type UploadedFile = File;

export interface UploadRequest {
  files: readonly UploadedFile[];
  /** TRAINING items when true, PREDICTION items when false. */
  training: boolean;
  /** OK (true) / NG (false) label for every file; null: unlabelled. */
  good?: boolean | null;
  targetId?: string | null;
  /** The items go to this model's target (`"active"` allowed, of `targetId` or the default target). */
  modelId?: string | null;
}

/** A box as a client sends it (coordinates in pixels of the picture). */
export interface AnnotationInput {
  xMin?: number | null;
  xMax?: number | null;
  yMin?: number | null;
  yMax?: number | null;
  label?: number | null;
  notes?: string | null;
  score?: number | null;
}

export interface AnnotateRequest {
  itemId: string;
  /** Replaces the user's boxes (an empty list clears them). */
  annotations: readonly AnnotationInput[];
  /** OK/NG label; absent (undefined): unchanged, null: unlabelled. */
  good?: boolean | null;
  /** The user's label text; absent (undefined): unchanged, null: none. */
  label?: string | null;
}

/** Items: pictures to learn from (TRAINING) or to judge (PREDICTION), with the user's labels and boxes. */
export interface ItemsService {
  /**
   * Stores uploaded pictures, one item per file, all or nothing: every file is checked (count,
   * size, format, pixels) before any is stored, and a failed write leaves no blob behind.
   * Target: `targetId`, else the target of `modelId`, else the default one (created as
   * "default" when there is none).
   */
  addUploaded(request: UploadRequest): Promise<{ items: ItemRecord[]; target: TargetRecord }>;
  /** Replaces the user's boxes of an item; `good`/`label` also set its OK/NG label when given. */
  annotate(request: AnnotateRequest): Promise<{ item: ItemRecord; annotations: AnnotationRecord[] }>;
  /**
   * Reviewed pictures become training pictures: a TRAINING item of the same target per item,
   * labelled `good` (OK) or not (NG), sharing the pictures' stored files (no copy). The
   * reviewed items stay as they were. NOT_FOUND naming every unknown id.
   */
  addToTraining(request: { itemIds: readonly string[]; good: boolean }): Promise<ItemRecord[]>;
  /** Deletes items with their pictures and assessments; NOT_FOUND naming every unknown id. */
  delete(ids: readonly string[]): Promise<string[]>;
}
