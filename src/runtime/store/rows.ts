// Rows as either engine returns them (see db/schema.ts), and their mapping to the domain records.
import type { Selectable } from 'kysely';
import { statsOrNull } from '../../model-stats.ts';
import type {
  AlgorithmParametersTable,
  AlgorithmsTable,
  AnnotationsTable,
  AssessmentsTable,
  AuditEventsTable,
  ClientsTable,
  ImagesTable,
  ItemsTable,
  ModelsTable,
  PredictionJobsTable,
  TargetsTable,
  WebhookDeliveriesTable,
  WebhooksTable,
} from './db/schema.ts';
import type {
  AlgorithmParameterRecord,
  AlgorithmRecord,
  AnnotationRecord,
  AssessmentRecord,
  AuditEventRecord,
  ClientRecord,
  ImageRecord,
  ItemRecord,
  ModelRecord,
  PredictionJobRecord,
  TargetRecord,
  WebhookDeliveryRecord,
  WebhookRecord,
} from './types.ts';

/** SQLite answers 1/0, PostgreSQL true/false. */
const flag = (v: boolean | number) => v === true || v === 1;
const flagOrNull = (v: boolean | number | null) => (v === null ? null : flag(v));
/** SQLite answers JSON text, PostgreSQL (jsonb) the parsed value. */
const json = <T>(v: unknown, fallback: T): T => (v === null || v === undefined ? fallback : typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

/** JSON text that may be corrupt (written by hand or by an older version): undefined when unreadable. */
const tolerantJson = (v: unknown): unknown => {
  try {
    return json(v, null);
  } catch {
    return undefined;
  }
};

export const toTarget = (r: Selectable<TargetsTable>): TargetRecord => ({
  id: r.id,
  key: r.key,
  name: r.name,
  isDefault: flag(r.is_default),
  preprocessing: json(r.preprocessing, []),
  createdAt: r.created_at,
});

export const toAlgorithm = (r: Selectable<AlgorithmsTable>): AlgorithmRecord => ({
  id: r.id,
  name: r.name,
  version: r.version,
  type: r.type,
  attribute: r.attribute,
  description: r.description,
  createdAt: r.created_at,
});

export const toParameter = (r: Selectable<AlgorithmParametersTable>): AlgorithmParameterRecord => ({
  id: r.id,
  key: r.key,
  algorithmId: r.algorithm_id,
  name: r.name,
  displayName: r.display_name,
  dataType: r.data_type,
  value: r.value,
  rangeLower: r.range_lower,
  rangeUpper: r.range_upper,
  modelParameter: flag(r.model_parameter),
});

export const toModel = (r: Selectable<ModelsTable>): ModelRecord => ({
  id: r.id,
  name: r.name,
  version: r.version,
  status: r.status as ModelRecord['status'],
  statusText: r.status_text,
  progress: r.progress,
  stage: r.stage,
  active: flag(r.active),
  algorithmId: r.algorithm_id,
  targetId: r.target_id,
  okImageCount: r.ok_image_count,
  ngImageCount: r.ng_image_count,
  trainingTime: r.training_time,
  // One bad row must not fail a list: stats that do not match the schema read as none.
  stats: statsOrNull(tolerantJson(r.stats)),
  predictParameters: json(r.predict_parameters, { threshold: 0.5, ignoreOuter: 0, minDetectedArea: 0 }),
  params: json(r.params, {}),
  trainItemIds: json(r.train_item_ids, []),
  onnxBlob: r.onnx_blob,
  inputSpec: json(r.input_spec, null),
  imageBlob: r.image_blob,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toItem = (r: Selectable<ItemsTable>): ItemRecord => ({
  id: r.id,
  name: r.name,
  targetId: r.target_id,
  type: r.type as ItemRecord['type'],
  status: r.status,
  active: flag(r.active),
  good: flagOrNull(r.good),
  userLabel: r.user_label,
  createdAt: r.created_at,
});

export const toImage = (r: Selectable<ImagesTable>): ImageRecord => ({
  id: r.id,
  ownerKind: r.item_id != null ? 'item' : r.assessment_id != null ? 'assessment' : 'model',
  ownerId: (r.item_id ?? r.assessment_id ?? r.model_id)!,
  name: r.name,
  blob: r.blob,
  width: r.width,
  height: r.height,
  fileSize: r.file_size,
  contentType: r.content_type,
  position: r.position,
  createdAt: r.created_at,
});

export const toAssessment = (r: Selectable<AssessmentsTable>): AssessmentRecord => ({
  id: r.id,
  itemId: r.item_id,
  modelId: r.model_id,
  result: r.result as AssessmentRecord['result'],
  label: r.label,
  score: r.score,
  threshold: r.threshold,
  detectedObjects: r.detected_objects,
  detectionAccuracy: r.detection_accuracy,
  jobId: r.job_id ?? null,
  createdAt: r.created_at,
});

export const toPredictionJob = (r: Selectable<PredictionJobsTable>): PredictionJobRecord => ({
  id: r.id,
  modelId: r.model_id,
  modelVersion: r.model_version,
  status: r.status as PredictionJobRecord['status'],
  statusText: r.status_text,
  itemIds: json(r.item_ids, []),
  total: r.total,
  errors: json(r.errors, []),
  errorCount: r.error_count,
  attempts: r.attempts,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

export const toAnnotation = (r: Selectable<AnnotationsTable>): AnnotationRecord => ({
  id: r.id,
  key: r.key,
  ownerKind: r.item_id != null ? 'user' : 'assessment',
  ownerId: (r.item_id ?? r.assessment_id)!,
  xMin: r.x_min,
  xMax: r.x_max,
  yMin: r.y_min,
  yMax: r.y_max,
  label: r.label,
  notes: r.notes,
  score: r.score,
  createdAt: r.created_at,
});

export const toClient = (r: Selectable<ClientsTable>): ClientRecord => ({
  clientId: r.client_id,
  secretHash: r.secret_hash,
  scope: r.scope as ClientRecord['scope'],
  name: r.name,
  createdAt: r.created_at,
  revokedAt: r.revoked_at ?? null,
  rotatedAt: r.rotated_at ?? null,
});

export const toAuditEvent = (r: Selectable<AuditEventsTable>): AuditEventRecord => ({
  id: r.id,
  at: r.at,
  actor: r.actor,
  actorKind: r.actor_kind as AuditEventRecord['actorKind'],
  action: r.action,
  targetType: r.target_type,
  targetIds: (tolerantJson(r.target_ids) as string[] | undefined) ?? [],
  outcome: r.outcome as AuditEventRecord['outcome'],
  detail: r.detail,
  source: r.source,
});

export const toWebhook = (r: Selectable<WebhooksTable>): WebhookRecord => ({
  id: r.id,
  url: r.url,
  events: json(r.events, []),
  targetId: r.target_id,
  modelId: r.model_id,
  secret: r.secret,
  description: r.description,
  active: flag(r.active),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toDelivery = (r: Selectable<WebhookDeliveriesTable>): WebhookDeliveryRecord => ({
  id: r.id,
  webhookId: r.webhook_id,
  event: r.event as WebhookDeliveryRecord['event'],
  payload: r.payload,
  status: r.status as WebhookDeliveryRecord['status'],
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastAttemptAt: r.last_attempt_at,
  responseCode: r.response_code,
  latencyMs: r.latency_ms,
  error: r.error,
  createdAt: r.created_at,
});
