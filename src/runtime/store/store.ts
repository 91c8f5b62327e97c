import type {
  AlgorithmParameterRecord,
  AlgorithmRecord,
  AnnotationOwner,
  AnnotationRecord,
  AssessmentRecord,
  ClientRecord,
  ImageOwner,
  ImageRecord,
  ItemRecord,
  ItemType,
  LicenseRecord,
  ModelRecord,
  ModelStatus,
  Page,
  Preprocessing,
  PredictParameters,
  TargetRecord,
} from './types.ts';

export interface PutOptions {
  /**
   * Pins the blob for an in-flight request until the row that uses it is written (the store
   * releases holds when it commits rows naming the blob) or the request rolls back (`release`).
   * A held blob is never removed by `deleteUnreferenced`; holds lapse after 15 minutes.
   */
  hold?: boolean;
}

/**
 * Content-addressed binary storage. Keys are sha256 hex of the content.
 * Writes are atomic (temp file, fsync, rename); writing the same content twice is a no-op.
 */
export interface BlobStore {
  /** A directory on the blob store's file system for staging files before `putFile`. */
  readonly tmpDir: string;
  /** Stores bytes and returns their key. */
  put(data: Uint8Array, opts?: PutOptions): Promise<string>;
  /**
   * Moves an already-written temporary file into the store (used by streamed uploads); the temp
   * file is gone afterwards. `created` is false when the content was already stored.
   */
  putFile(tempPath: string, opts?: PutOptions): Promise<{ key: string; size: number; created: boolean }>;
  get(key: string): Promise<Buffer>;
  /** Absolute path for streaming reads (e.g. serving an image). Throws on a malformed key. */
  path(key: string): string;
  has(key: string): Promise<boolean>;
  /** Removes the file unconditionally; false when it did not exist. */
  delete(key: string): Promise<boolean>;
  /** Drops one hold per key (see PutOptions.hold). */
  release(keys: Iterable<string>): void;
  /** Removes those of `keys` that no row refers to and no in-flight request holds; returns them. */
  deleteUnreferenced(keys: Iterable<string>): Promise<string[]>;
  /**
   * Removes blobs no row refers to any more (and stray temp files). `olderThanMs` spares files
   * written recently (e.g. export downloads that have no row). Returns how many were removed.
   */
  sweep(referenced: Set<string>, opts?: { olderThanMs?: number }): Promise<number>;
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface NewItem {
  name: string;
  targetId: string;
  type: ItemType;
  good: boolean | null;
  images: NewImage[];
}

export interface NewImage {
  name: string;
  blob: string;
  width: number;
  height: number;
  fileSize: number;
  contentType: string;
}

export interface NewAnnotation {
  xMin: number | null;
  xMax: number | null;
  yMin: number | null;
  yMax: number | null;
  label: number | null;
  notes: string | null;
  score: number | null;
}

export interface NewAssessment {
  itemId: string;
  modelId: string;
  result: AssessmentRecord['result'];
  label: string | null;
  score: number;
  threshold: number;
  detectedObjects: number;
  detectionAccuracy: number | null;
  annotations: NewAnnotation[];
  images: NewImage[];
}

export interface NewModel {
  name: string;
  version: string;
  algorithmId: string;
  targetId: string;
  status: ModelStatus;
  params: Record<string, string>;
  predictParameters: PredictParameters;
  trainItemIds: string[];
  okImageCount: number;
  ngImageCount: number;
}

export type ModelPatch = Partial<
  Pick<
    ModelRecord,
    | 'name'
    | 'status'
    | 'statusText'
    | 'progress'
    | 'stage'
    | 'okImageCount'
    | 'ngImageCount'
    | 'trainingTime'
    | 'stats'
    | 'predictParameters'
    | 'onnxBlob'
    | 'inputSpec'
    | 'imageBlob'
  >
>;

export interface AlgorithmDefinition {
  id: string;
  name: string;
  version: string;
  type: string;
  attribute: string;
  description: string;
  parameters: Omit<AlgorithmParameterRecord, 'id' | 'algorithmId'>[];
}

/**
 * The store every resolver and engine goes through. The embedded implementation is SQLite
 * (better-sqlite3) plus files under DATA_DIR; a PostgreSQL + object storage one can follow.
 *
 * Batch reads (`*ByIds`, `*ByOwners`) take many keys and answer in one query each: the
 * dataloaders are built on them. They return what exists, in any order; callers map by key.
 * Every method that touches the database counts one "read" or "write" in `stats` so tests can
 * prove a query's cost does not grow with the number of rows.
 *
 * Paged lists (`listModels`, `listItems`) are newest first with keyset cursors; `first` defaults
 * to 20 and is clamped to 100. Expected failures are AppErrors (NOT_FOUND, CONFLICT,
 * BAD_USER_INPUT for a foreign cursor).
 */
export interface Store {
  readonly blobs: BlobStore;
  readonly stats: { reads: number; writes: number };

  // targets
  listTargets(): Promise<TargetRecord[]>;
  targetsByIds(ids: readonly string[]): Promise<TargetRecord[]>;
  defaultTarget(): Promise<TargetRecord | null>;
  createTarget(name: string, preprocessing: Preprocessing[]): Promise<TargetRecord>;
  setDefaultTarget(id: string): Promise<TargetRecord>;

  // algorithms (catalogue seeded at start from the training runtime's definitions)
  syncAlgorithms(defs: AlgorithmDefinition[]): Promise<void>;
  listAlgorithms(): Promise<AlgorithmRecord[]>;
  algorithmsByIds(ids: readonly string[]): Promise<AlgorithmRecord[]>;
  parametersByAlgorithmIds(ids: readonly string[]): Promise<AlgorithmParameterRecord[]>;

  // models
  listModels(
    filter: { algorithmId?: string | null; targetId?: string | null; status?: ModelStatus | null },
    page: PageArgs,
  ): Promise<Page<ModelRecord>>;
  /** `listModels({ targetId })` for many targets at once (same page arguments), keyed by target id. */
  modelPagesByTargets(targetIds: readonly string[], page: PageArgs): Promise<Map<string, Page<ModelRecord>>>;
  modelsByIds(ids: readonly string[]): Promise<ModelRecord[]>;
  activeModel(targetId: string): Promise<ModelRecord | null>;
  /** The active models of many targets (targets without one are absent). */
  activeModelsByTargetIds(targetIds: readonly string[]): Promise<ModelRecord[]>;
  createModel(model: NewModel): Promise<ModelRecord>;
  updateModel(id: string, patch: ModelPatch): Promise<ModelRecord>;
  /** Makes the model its target's only active one. */
  activateModel(id: string): Promise<ModelRecord>;
  /** Deletes models with their assessments; returns the ids that existed. */
  deleteModels(ids: readonly string[]): Promise<string[]>;
  modelsWithStatus(statuses: readonly ModelStatus[]): Promise<ModelRecord[]>;

  // items and their images
  /** `type` null or absent: both kinds. See the implementation for what `modelId` selects. */
  listItems(
    filter: { type?: ItemType | null; targetId?: string | null; modelId?: string | null },
    page: PageArgs,
  ): Promise<Page<ItemRecord>>;
  /** `listItems({ type, targetId })` for many targets at once (same page arguments), keyed by target id. */
  itemPagesByTargets(
    targetIds: readonly string[],
    filter: { type?: ItemType | null },
    page: PageArgs,
  ): Promise<Map<string, Page<ItemRecord>>>;
  itemsByIds(ids: readonly string[]): Promise<ItemRecord[]>;
  /** All-or-nothing: either every item with its images is stored, or none is. */
  addItems(items: NewItem[]): Promise<ItemRecord[]>;
  labelItem(id: string, good: boolean | null, label: string | null): Promise<ItemRecord>;
  deleteItems(ids: readonly string[]): Promise<string[]>;
  imagesByOwners(kind: ImageOwner, ownerIds: readonly string[]): Promise<ImageRecord[]>;
  imagesByIds(ids: readonly string[]): Promise<ImageRecord[]>;

  // annotations
  annotationsByOwners(kind: AnnotationOwner, ownerIds: readonly string[]): Promise<AnnotationRecord[]>;
  /** Replaces the user's annotations of an item. */
  setUserAnnotations(itemId: string, annotations: NewAnnotation[]): Promise<AnnotationRecord[]>;

  // assessments
  /** Newest first per item; modelId narrows to one model. */
  assessmentsByItemIds(itemIds: readonly string[], modelId?: string | null): Promise<AssessmentRecord[]>;
  assessmentsByIds(ids: readonly string[]): Promise<AssessmentRecord[]>;
  assessmentsByModelIds(modelIds: readonly string[]): Promise<AssessmentRecord[]>;
  /** Stores assessments with their boxes and images in one transaction. */
  addAssessments(assessments: NewAssessment[]): Promise<AssessmentRecord[]>;

  // auth and license
  clientById(clientId: string): Promise<ClientRecord | null>;
  createClient(client: ClientRecord): Promise<ClientRecord>;
  /** Replaces a client's secret hash and/or scope; NOT_FOUND when it does not exist. */
  updateClient(clientId: string, patch: Partial<Pick<ClientRecord, 'secretHash' | 'scope' | 'name'>>): Promise<ClientRecord>;
  countClients(): Promise<number>;
  license(): Promise<LicenseRecord | null>;
  setLicense(license: LicenseRecord): Promise<LicenseRecord>;
  /** Small key/value settings (signing key, installation id). */
  getSetting(key: string): Promise<string | null>;
  setSetting(key: string, value: string): Promise<void>;

  /** True when the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
