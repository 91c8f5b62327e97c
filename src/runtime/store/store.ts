import type { BlobStore } from './blobs.ts';
import type { Engine } from './db/sql.ts';
import type {
  AlgorithmParameterRecord,
  AlgorithmRecord,
  AnnotationOwner,
  AnnotationRecord,
  AssessmentRecord,
  AuditEventRecord,
  ClientRecord,
  ImageOwner,
  ImageRecord,
  ItemRecord,
  ItemType,
  LicenseRecord,
  ModelActivationRecord,
  ModelRecord,
  ModelStatus,
  KeysetPage,
  Page,
  PredictionJobCounts,
  PredictionJobError,
  PredictionJobRecord,
  PredictionJobStatus,
  Preprocessing,
  PredictParameters,
  Region,
  RegionSetRecord,
  TargetRecord,
  UserRecord,
  UserSessionRecord,
  WebhookDeliveryRecord,
  WebhookEvent,
  WebhookRecord,
} from './types.ts';

export type { BlobStore, PutOptions } from './blobs.ts';

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
  /** The background prediction making it: one assessment per job and item (a second is not stored). */
  jobId?: string | null;
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
    | 'version'
    | 'algorithmId'
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
  parameters: Omit<AlgorithmParameterRecord, 'id' | 'key' | 'algorithmId'>[];
}

/**
 * Batch reads (`*ByIds`, `*ByOwners`) take many keys and answer in one query each: the
 * dataloaders are built on them. They return what exists, in any order; callers map by key.
 * Paged lists (`listModels`, `listItems`) are newest first with keyset cursors; `first` defaults
 * to 20 and is clamped to 100. Expected failures are AppErrors (NOT_FOUND, CONFLICT,
 * BAD_USER_INPUT for a foreign cursor).
 */
export interface TargetStore {
  listTargets(): Promise<TargetRecord[]>;
  targetsByIds(ids: readonly string[]): Promise<TargetRecord[]>;
  /** By stable integer key (REST's `target_id`). */
  targetsByKeys(keys: readonly number[]): Promise<TargetRecord[]>;
  defaultTarget(): Promise<TargetRecord | null>;
  /** The first target created becomes the default one. CONFLICT when the name is taken. */
  createTarget(name: string, preprocessing: Preprocessing[]): Promise<TargetRecord>;
  setDefaultTarget(id: string): Promise<TargetRecord>;
}

/** The catalogue, seeded at start from the training runtime's definitions. */
export interface AlgorithmStore {
  /** Upserts algorithms by id and their parameters by name (a parameter keeps its id and key). */
  syncAlgorithms(defs: AlgorithmDefinition[]): Promise<void>;
  listAlgorithms(): Promise<AlgorithmRecord[]>;
  algorithmsByIds(ids: readonly string[]): Promise<AlgorithmRecord[]>;
  parametersByAlgorithmIds(ids: readonly string[]): Promise<AlgorithmParameterRecord[]>;
}

export interface ModelStore {
  listModels(filter: { algorithmId?: string | null; targetId?: string | null; status?: ModelStatus | null }, page: PageArgs): Promise<Page<ModelRecord>>;
  /** `listModels({ targetId })` for many targets at once (same page arguments), keyed by target id, without counts. */
  modelPagesByTargets(targetIds: readonly string[], page: PageArgs): Promise<Map<string, KeysetPage<ModelRecord>>>;
  /** How many models each target has, keyed by target id. */
  modelCountsByTargets(targetIds: readonly string[]): Promise<Map<string, number>>;
  modelsByIds(ids: readonly string[]): Promise<ModelRecord[]>;
  activeModel(targetId: string): Promise<ModelRecord | null>;
  /** The active models of many targets (targets without one are absent). */
  activeModelsByTargetIds(targetIds: readonly string[]): Promise<ModelRecord[]>;
  createModel(model: NewModel): Promise<ModelRecord>;
  /**
   * Creates complete models (e.g. from an imported archive) in one transaction: all of them or,
   * should anything fail or the process die half-way, none. Releases the blobs' holds once written.
   */
  createModels(models: readonly { model: NewModel; patch: ModelPatch; regions?: Region[] | null }[]): Promise<ModelRecord[]>;
  updateModel(id: string, patch: ModelPatch): Promise<ModelRecord>;
  /**
   * Makes the model its target's active one and adds a line to the target's activation history.
   * `ifNoneActive`: only when the target has no active model (else the model is returned as is).
   */
  activateModel(id: string, actor?: string | null, opts?: { ifNoneActive?: boolean }): Promise<ModelRecord>;
  /** The target's activations, newest first. */
  activationHistory(targetId: string, limit: number): Promise<ModelActivationRecord[]>;
  /** Deletes models with their assessments; returns the ids that existed. */
  deleteModels(ids: readonly string[]): Promise<string[]>;
  modelsWithStatus(statuses: readonly ModelStatus[]): Promise<ModelRecord[]>;
}

/** Items and their pictures. */
/** `type` null or absent: both kinds. */
export interface ItemFilter {
  type?: ItemType | null;
  targetId?: string | null;
  modelId?: string | null;
}

export interface ItemStore {
  /**
   * `type` null or absent: both kinds. `modelId` narrows to the items that model has assessed or
   * was trained on (its `trainItemIds`).
   */
  listItems(filter: ItemFilter, page: PageArgs): Promise<Page<ItemRecord>>;
  /** `listItems` without the count (which visits every matching item). */
  pageItems(filter: ItemFilter, page: PageArgs): Promise<KeysetPage<ItemRecord>>;
  /** How many items `listItems(filter)` pages through. */
  countItems(filter: ItemFilter): Promise<number>;
  /** `listItems({ type, targetId })` for many targets at once (same page arguments), keyed by target id, without counts. */
  itemPagesByTargets(targetIds: readonly string[], filter: { type?: ItemType | null }, page: PageArgs): Promise<Map<string, KeysetPage<ItemRecord>>>;
  /** How many items each target has (of `type` when given), keyed by target id. */
  itemCountsByTargets(targetIds: readonly string[], filter: { type?: ItemType | null }): Promise<Map<string, number>>;
  itemsByIds(ids: readonly string[]): Promise<ItemRecord[]>;
  /** All-or-nothing: either every item with its images is stored, or none is. */
  addItems(items: NewItem[]): Promise<ItemRecord[]>;
  labelItem(id: string, good: boolean | null, label: string | null): Promise<ItemRecord>;
  deleteItems(ids: readonly string[]): Promise<string[]>;
  imagesByOwners(kind: ImageOwner, ownerIds: readonly string[]): Promise<ImageRecord[]>;
  imagesByIds(ids: readonly string[]): Promise<ImageRecord[]>;
}

/** Assessments with their boxes, and the users' own boxes. */
export interface AssessmentStore {
  annotationsByOwners(kind: AnnotationOwner, ownerIds: readonly string[]): Promise<AnnotationRecord[]>;
  /** Replaces the user's annotations of an item. */
  setUserAnnotations(itemId: string, annotations: NewAnnotation[]): Promise<AnnotationRecord[]>;
  /** Newest first per item; modelId narrows to one model. */
  assessmentsByItemIds(itemIds: readonly string[], modelId?: string | null): Promise<AssessmentRecord[]>;
  assessmentsByIds(ids: readonly string[]): Promise<AssessmentRecord[]>;
  assessmentsByModelIds(modelIds: readonly string[]): Promise<AssessmentRecord[]>;
  /**
   * Stores assessments with their boxes and images in one transaction. An assessment of a job
   * (`jobId`) for an item the job has already assessed is not stored again: the stored one is
   * answered in its place.
   */
  addAssessments(assessments: NewAssessment[]): Promise<AssessmentRecord[]>;
}

/** Background predictions as records; their counts come from the assessments they made. */
export interface PredictionJobStore {
  createPredictionJob(job: { id: string; modelId: string; modelVersion: string; itemIds: string[] }): Promise<PredictionJobRecord>;
  predictionJobsByIds(ids: readonly string[]): Promise<PredictionJobRecord[]>;
  /** Oldest first. */
  predictionJobsWithStatus(statuses: readonly PredictionJobStatus[]): Promise<PredictionJobRecord[]>;
  /** `started` counts a run and stamps startedAt, `finished` stamps finishedAt; `errors` are appended. */
  updatePredictionJob(
    id: string,
    patch: { status?: PredictionJobStatus; statusText?: string | null; started?: boolean; finished?: boolean; errors?: PredictionJobError[] },
  ): Promise<PredictionJobRecord>;
  predictionJobCounts(ids: readonly string[]): Promise<Map<string, PredictionJobCounts>>;
  /** The assessments the job has stored so far, oldest first. */
  assessmentsByJob(jobId: string): Promise<AssessmentRecord[]>;
  /** The items the job has assessed so far. */
  judgedItemIds(jobId: string): Promise<Set<string>>;
}

/** API clients, the license, and small key/value settings (signing keys, installation id). */
export interface AuditFilter {
  actor?: string | null;
  action?: string | null;
  targetId?: string | null;
  /** ISO times, inclusive. */
  since?: string | null;
  until?: string | null;
}

export interface AccessStore {
  clientById(clientId: string): Promise<ClientRecord | null>;
  createClient(client: ClientRecord): Promise<ClientRecord>;
  /** Replaces a client's secret hash and/or scope; NOT_FOUND when it does not exist. */
  updateClient(clientId: string, patch: Partial<Pick<ClientRecord, 'secretHash' | 'scope' | 'name'>>): Promise<ClientRecord>;
  countClients(): Promise<number>;
  /** Every client, newest first (secret hashes included: the auth engine's to keep). */
  listClients(): Promise<ClientRecord[]>;
  /** Marks the client revoked (its tokens are refused from then on); NOT_FOUND when unknown. */
  revokeClient(clientId: string, at: string): Promise<ClientRecord>;
  /** Replaces the secret hash and stamps `rotated_at`; NOT_FOUND when unknown or revoked. */
  rotateClientSecret(clientId: string, secretHash: string, at: string): Promise<ClientRecord>;
  /** Stores the events in one statement (one transaction), in order. */
  recordAuditEvents(events: readonly Omit<AuditEventRecord, 'id'>[]): Promise<AuditEventRecord[]>;
  /** Newest first; every filter optional. */
  listAuditEvents(filter: AuditFilter, page: PageArgs): Promise<Page<AuditEventRecord>>;
  license(): Promise<LicenseRecord | null>;
  setLicense(license: LicenseRecord): Promise<LicenseRecord>;
  getSetting(key: string): Promise<string | null>;
  setSetting(key: string, value: string): Promise<void>;
  /**
   * The setting's value, storing `value` first when there is none: of instances starting at the
   * same time, the first writer wins and every one answers its value.
   */
  initSetting(key: string, value: string): Promise<string>;
}

/** People who sign in, their browser sessions, and the listing/removal of API clients. */
export interface UserStore {
  /** CONFLICT when the name is taken. */
  createUser(user: { name: string; role: string; passwordHash: string | null }): Promise<UserRecord>;
  userById(id: string): Promise<UserRecord | null>;
  userByName(name: string): Promise<UserRecord | null>;
  /** By name. */
  listUsers(): Promise<UserRecord[]>;
  /** Every user; with `role`, the enabled users of that role. */
  countUsers(role?: string): Promise<number>;
  /** NOT_FOUND when there is none. `passwordHash: null` removes the password (single sign-on only). */
  updateUser(id: string, patch: { role?: string; passwordHash?: string | null; disabled?: boolean }): Promise<UserRecord>;
  /** Takes the user's sessions along; NOT_FOUND when there is none. */
  deleteUser(id: string): Promise<void>;
  createSession(session: { id: string; userId: string; userAgent: string | null; expiresAt: string }): Promise<UserSessionRecord>;
  /** The session when it exists, is not revoked and has not expired; null otherwise. */
  liveSession(id: string): Promise<UserSessionRecord | null>;
  /** Slides the expiry (and stamps last use) of a session that is not revoked. */
  renewSession(id: string, expiresAt: string): Promise<void>;
  revokeSession(id: string): Promise<void>;
  /** Answers how many were live. */
  revokeUserSessions(userId: string): Promise<number>;
  /** Live ones, newest first. */
  sessionsOfUser(userId: string): Promise<UserSessionRecord[]>;
  /** Oldest first. */
  listClients(): Promise<ClientRecord[]>;
  /** NOT_FOUND when there is none. */
  deleteClient(clientId: string): Promise<void>;
}

export interface NewWebhook {
  url: string;
  events: WebhookEvent[];
  targetId: string | null;
  modelId: string | null;
  secret: string;
  description: string | null;
}

export type WebhookPatch = Partial<NewWebhook & { active: boolean }>;

export interface NewDelivery {
  webhookId: string;
  event: WebhookEvent;
  /** Identifies the event: a second insert of the same key for the same webhook is ignored. */
  eventKey: string;
  payload: string;
}

export type DeliveryPatch = Partial<
  Pick<WebhookDeliveryRecord, 'status' | 'nextAttemptAt' | 'lastAttemptAt' | 'responseCode' | 'latencyMs' | 'error' | 'attempts'>
>;

/** Webhooks and their deliveries (an outbox: recorded first, sent by the webhooks engine). */
export interface WebhookStore {
  createWebhook(webhook: NewWebhook): Promise<WebhookRecord>;
  /** NOT_FOUND when it does not exist. */
  updateWebhook(id: string, patch: WebhookPatch): Promise<WebhookRecord>;
  /** Deletes it with its deliveries; false when it did not exist. */
  deleteWebhook(id: string): Promise<boolean>;
  webhooksByIds(ids: readonly string[]): Promise<WebhookRecord[]>;
  /** Oldest first; `targetId` narrows to the webhooks of that target. */
  listWebhooks(filter: { targetId?: string | null }): Promise<WebhookRecord[]>;
  /** Active webhooks that want `event` of this target and model (their own filters null or equal). */
  webhooksFor(event: WebhookEvent, targetId: string, modelId: string | null): Promise<WebhookRecord[]>;
  /** Records deliveries, PENDING and due now, in one transaction; returns those that were new. */
  addDeliveries(deliveries: NewDelivery[]): Promise<WebhookDeliveryRecord[]>;
  deliveriesByIds(ids: readonly string[]): Promise<WebhookDeliveryRecord[]>;
  /** Newest first, keyset paged. */
  listDeliveries(webhookId: string, page: PageArgs): Promise<Page<WebhookDeliveryRecord>>;
  /** The webhook's oldest PENDING delivery (due or not): deliveries go out in order. */
  nextPendingDelivery(webhookId: string): Promise<WebhookDeliveryRecord | null>;
  /** Webhooks that have PENDING deliveries (to resume them after a restart). */
  webhooksWithPendingDeliveries(): Promise<string[]>;
  /**
   * Takes a due PENDING delivery for one attempt: counts the attempt and moves its next attempt to
   * `leaseUntil`, only if it is still PENDING and due (another instance did not take it first).
   */
  claimDelivery(id: string, now: string, leaseUntil: string): Promise<WebhookDeliveryRecord | null>;
  updateDelivery(id: string, patch: DeliveryPatch): Promise<WebhookDeliveryRecord>;
}

/** Regions of interest of targets and models (see `Region`), one set per owner. */
export interface RegionStore {
  /** The sets these targets and models have of their own; owners without one are absent. */
  regionSetsByOwners(ownerIds: readonly string[]): Promise<RegionSetRecord[]>;
  /**
   * Replaces the owner's regions; null removes its set (a model then judges with its target's).
   * NOT_FOUND when the owner does not exist.
   */
  setRegions(owner: { kind: 'target' | 'model'; id: string }, regions: Region[] | null): Promise<RegionSetRecord | null>;
}

/**
 * The store every resolver and engine goes through: records on SQLite (embedded, default) or
 * PostgreSQL (DATABASE_URL), with the same queries and migrations on both, plus the blobs.
 * Every query counts one "read" or "write" in `stats`, so tests can prove a request's cost does
 * not grow with the number of rows.
 */
export interface Store
  extends TargetStore,
    AlgorithmStore,
    ModelStore,
    ItemStore,
    AssessmentStore,
    AccessStore,
    PredictionJobStore,
    WebhookStore,
    RegionStore,
    UserStore {
  readonly engine: Engine;
  readonly blobs: BlobStore;
  readonly stats: { reads: number; writes: number };
  /**
   * Removes blobs no record names that are older than `olderThanMs` (default an hour), and stale
   * staged files; only where the blobs belong to this database. Returns how many went.
   */
  sweepBlobs(olderThanMs?: number): Promise<number>;
  /** True when the database answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
