// Domain records as the store hands them out. Ids are opaque strings (UUIDv7-like, sortable by time).
// Records the original REST API identifies by an int32 also carry `key`: a stable integer,
// assigned once when the row is written and never reused, on either engine.

export const ModelStatus = {
  QUEUED: 'QUEUED',
  TRAINING: 'TRAINING',
  READY: 'READY',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
} as const;
export type ModelStatus = (typeof ModelStatus)[keyof typeof ModelStatus];

export const ItemType = { TRAINING: 'TRAINING', PREDICTION: 'PREDICTION' } as const;
export type ItemType = (typeof ItemType)[keyof typeof ItemType];

export const AssessmentResult = { GOOD: 'GOOD', BAD: 'BAD' } as const;
export type AssessmentResult = (typeof AssessmentResult)[keyof typeof AssessmentResult];

/**
 * What a client may do: `read`, `predict`, `train`, `admin`, or `all` (every one of them; the
 * old spelling, still accepted). A client holds a space-separated set, e.g. `read predict`.
 */
export const Scope = { READ: 'read', PREDICT: 'predict', TRAIN: 'train', ADMIN: 'admin', ALL: 'all' } as const;
export type ScopeName = (typeof Scope)[keyof typeof Scope];
/** One scope name, or several separated by spaces (`read predict`). */
export type Scope = ScopeName | (string & {});

export interface Preprocessing {
  name: string;
  active: boolean | null;
  config: string | null;
}

export interface TargetRecord {
  id: string;
  /** Stable integer key: REST's `target_id` (and a model's `context_id`). */
  key: number;
  name: string;
  isDefault: boolean;
  preprocessing: Preprocessing[];
  createdAt: string;
}

export interface AlgorithmParameterRecord {
  id: string;
  /** Stable integer key: REST's `algorithm_parameter_id`. */
  key: number;
  algorithmId: string;
  name: string;
  displayName: string | null;
  dataType: string; // 'int' | 'float' | 'bool' | 'string' | 'int2' (a pair "a,b")
  value: string | null; // default
  rangeLower: string | null;
  rangeUpper: string | null;
  modelParameter: boolean; // true when it may be changed after training (predict parameter)
}

export interface AlgorithmRecord {
  id: string;
  name: string;
  version: string | null;
  type: string | null;
  attribute: string | null;
  description: string | null;
  createdAt: string;
}

export interface PredictParameters {
  threshold: number;
  ignoreOuter: number;
  minDetectedArea: number;
}

export interface ModelStats {
  accuracy: number | null;
  precision: { computed: number | null; projected: number | null };
  recall: { computed: number | null; projected: number | null };
  /** How the figures were computed, in words (held-out split, counts). */
  method: string | null;
  /** Scores of synthetic defects painted into held-out OK pictures (training/sensitivity.ts); absent on older models. */
  sensitivity?: SensitivityCell[] | null;
}

/** One cell of the sensitivity grid and the held-out scores of its probes. */
export interface SensitivityCell {
  kind: 'spot' | 'line';
  /** Spots: percent of the picture's (or tile's) area; lines: percent of its longer side. */
  size: number;
  /** Multiples of the picture's own standard deviation of grey levels. */
  contrast: number;
  scores: number[];
}

/** One activation of a model (the target's history, newest first). */
export interface ModelActivationRecord {
  id: string;
  targetId: string;
  modelId: string;
  /** The model active before, if any (it may have been deleted since). */
  previousModelId: string | null;
  /** Who activated it: a person's name or an API client's id; null when unknown. */
  actor: string | null;
  at: string;
}

export interface ModelRecord {
  id: string;
  name: string;
  version: string;
  status: ModelStatus;
  statusText: string | null;
  progress: number;
  stage: string | null;
  active: boolean;
  algorithmId: string;
  targetId: string;
  okImageCount: number;
  ngImageCount: number;
  trainingTime: number | null;
  stats: ModelStats | null;
  predictParameters: PredictParameters;
  /** Effective algorithm parameters (defaults merged with overrides), name -> string value. */
  params: Record<string, string>;
  /** Training request kept so that a job interrupted by a restart can be run again. */
  trainItemIds: string[];
  /** Blob key of model.onnx once trained. */
  onnxBlob: string | null;
  /** Manifest fragment describing the ONNX input (size, channels, preprocessing). JSON. */
  inputSpec: Record<string, unknown> | null;
  /** Blob key of a representative picture (mean image / legend). */
  imageBlob: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ItemRecord {
  id: string;
  name: string;
  targetId: string;
  type: ItemType;
  status: string | null;
  active: boolean;
  /** User label: true = OK, false = NG, null = unlabelled. */
  good: boolean | null;
  userLabel: string | null;
  createdAt: string;
}

export const ImageOwner = { ITEM: 'item', ASSESSMENT: 'assessment', MODEL: 'model' } as const;
export type ImageOwner = (typeof ImageOwner)[keyof typeof ImageOwner];

export interface ImageRecord {
  id: string;
  ownerKind: ImageOwner;
  ownerId: string;
  name: string;
  blob: string; // content hash, key into the blob store
  width: number;
  height: number;
  fileSize: number;
  contentType: string;
  position: number;
  createdAt: string;
}

export interface AssessmentRecord {
  id: string;
  itemId: string;
  modelId: string;
  result: AssessmentResult;
  label: string | null;
  score: number;
  threshold: number;
  detectedObjects: number;
  detectionAccuracy: number | null;
  /** The background prediction that made it; null for a synchronous one. */
  jobId: string | null;
  createdAt: string;
}

export const PredictionJobStatus = { QUEUED: 'QUEUED', RUNNING: 'RUNNING', DONE: 'DONE', FAILED: 'FAILED', CANCELLED: 'CANCELLED' } as const;
export type PredictionJobStatus = (typeof PredictionJobStatus)[keyof typeof PredictionJobStatus];

/** A picture a background prediction could not judge. */
export interface PredictionJobError {
  itemId: string;
  message: string;
}

/** A background prediction (`requestPrediction`): what it judges and how it stands. */
export interface PredictionJobRecord {
  id: string;
  modelId: string;
  modelVersion: string;
  status: PredictionJobStatus;
  statusText: string | null;
  itemIds: string[];
  total: number;
  /** The first errors (at most 100); `errorCount` counts them all. */
  errors: PredictionJobError[];
  errorCount: number;
  /** Runs started (more than one when a worker died or a run failed and was retried). */
  attempts: number;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** Pictures a job has judged so far, from its assessments. */
export interface PredictionJobCounts {
  judged: number;
  good: number;
  bad: number;
}

export const AnnotationOwner = { USER: 'user', ASSESSMENT: 'assessment' } as const;
export type AnnotationOwner = (typeof AnnotationOwner)[keyof typeof AnnotationOwner];

export interface AnnotationRecord {
  id: string;
  /** Stable integer key: REST's `annotation_id`. */
  key: number;
  ownerKind: AnnotationOwner;
  /** item id for user annotations, assessment id for detected boxes */
  ownerId: string;
  xMin: number | null;
  xMax: number | null;
  yMin: number | null;
  yMax: number | null;
  label: number | null;
  notes: string | null;
  score: number | null;
  createdAt: string;
}

export interface ClientRecord {
  clientId: string;
  secretHash: string;
  scope: Scope;
  name: string | null;
  createdAt: string;
  /** Set once revoked: its tokens are refused from then on. */
  revokedAt?: string | null;
  rotatedAt?: string | null;
}

/** One security-relevant action (docs/security.md "Audit trail"). */
export interface AuditEventRecord {
  id: string;
  at: string;
  /** The client id (or user) that acted; `system` for the gateway itself. */
  actor: string;
  actorKind: 'client' | 'user' | 'system';
  /** e.g. `createModel`, `trainModel`, `activateModel`, `revokeApiClient`, `importModels`. */
  action: string;
  targetType: string | null;
  targetIds: string[];
  outcome: 'ok' | 'failed';
  detail: string | null;
  source: string | null;
}

/** A person who signs in (the dashboard); `role` is one of runtime/auth/scopes.ts ROLES. */
export interface UserRecord {
  id: string;
  name: string;
  role: string;
  /** Memory-hard hash; null for people who sign in only through single sign-on. */
  passwordHash: string | null;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

/** A signed-in browser. `id` is the SHA-256 of the cookie's token, never the token itself. */
export interface UserSessionRecord {
  id: string;
  userId: string;
  userAgent: string | null;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

export interface LicenseRecord {
  /** The license file as uploaded (signed document, see README). */
  document: string;
  expiresAt: string | null;
  installedAt: string;
}

export interface Page<T> {
  nodes: T[];
  totalCount: number;
  hasNextPage: boolean;
  endCursor: string | null;
}

/** A page without its count (counting every matching row costs more than reading one page). */
export type KeysetPage<T> = Omit<Page<T>, 'totalCount'>;

/** What a webhook can be told about (MQTT publishes the same events). */
export const WebhookEvent = {
  PREDICTION_RESULT: 'PREDICTION_RESULT',
  TRAINING_FINISHED: 'TRAINING_FINISHED',
  MODEL_ACTIVATED: 'MODEL_ACTIVATED',
} as const;
export type WebhookEvent = (typeof WebhookEvent)[keyof typeof WebhookEvent];

export interface WebhookRecord {
  id: string;
  url: string;
  events: WebhookEvent[];
  /** Only events of this target (null: every target). */
  targetId: string | null;
  /** Only events of this model (null: every model). */
  modelId: string | null;
  /** HMAC-SHA256 key of X-Spectro-Signature. */
  secret: string;
  description: string | null;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export const DeliveryStatus = { PENDING: 'PENDING', SUCCEEDED: 'SUCCEEDED', FAILED: 'FAILED' } as const;
export type DeliveryStatus = (typeof DeliveryStatus)[keyof typeof DeliveryStatus];

export interface WebhookDeliveryRecord {
  /** Also the X-Spectro-Delivery header: receivers drop a delivery they have seen. */
  id: string;
  webhookId: string;
  event: WebhookEvent;
  /** The event's data (JSON text), wrapped into the signed envelope at each attempt. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt may start (while PENDING); pushed forward while one runs (a lease). */
  nextAttemptAt: string;
  lastAttemptAt: string | null;
  responseCode: number | null;
  latencyMs: number | null;
  error: string | null;
  createdAt: string;
}

/**
 * Regions of interest: polygons in coordinates normalised to the picture (0..1, x to the right,
 * y down), so they hold whatever size the picture is judged at (resized, tiled).
 * INCLUDE: only included area is judged once any INCLUDE region exists; `sensitivity` multiplies
 * the anomaly map inside it (later regions over earlier ones where they overlap).
 * EXCLUDE: never judged, whatever the order; its sensitivity is always 1.
 */
export const RegionMode = { INCLUDE: 'INCLUDE', EXCLUDE: 'EXCLUDE' } as const;
export type RegionMode = (typeof RegionMode)[keyof typeof RegionMode];

export interface Region {
  mode: RegionMode;
  /** Vertices [x, y] in 0..1, in order (either direction); the polygon closes itself. */
  points: [number, number][];
  sensitivity: number;
  label: string | null;
}

/** The regions a target or a model has of its own. */
export interface RegionSetRecord {
  ownerKind: 'target' | 'model';
  ownerId: string;
  regions: Region[];
  updatedAt: string;
}
