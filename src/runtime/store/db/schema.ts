import type { ColumnType } from 'kysely';

/**
 * The tables as Kysely sees them, for both engines. Where the engines store a value differently
 * the select type is the union and `rows.ts` maps it to the record:
 * - flags: SQLite INTEGER 0/1, PostgreSQL boolean (written as JS booleans; the SQLite connection
 *   binds them as 1/0);
 * - JSON: SQLite TEXT, PostgreSQL jsonb (written as JSON text, read back as text or parsed);
 * - times: SQLite TEXT (ISO 8601), PostgreSQL timestamptz (the pool's type parser answers ISO text).
 */
export type Flag = ColumnType<boolean | number, boolean, boolean>;
export type NullableFlag = ColumnType<boolean | number | null, boolean | null, boolean | null>;
export type Json = ColumnType<unknown, string, string>;
export type NullableJson = ColumnType<unknown, string | null, string | null>;
export type Time = ColumnType<string, string, string>;
/** A stable integer key (REST's int32 ids): assigned once at insert (see sql.ts `nextKeys`), never changed. */
export type IntKey = ColumnType<number, number, never>;

export interface SettingsTable {
  key: string;
  value: string;
}

export interface TargetsTable {
  id: string;
  key: IntKey;
  name: string;
  is_default: Flag;
  preprocessing: Json;
  created_at: Time;
}

export interface AlgorithmsTable {
  id: string;
  name: string;
  version: string | null;
  type: string | null;
  attribute: string | null;
  description: string | null;
  created_at: Time;
}

export interface AlgorithmParametersTable {
  id: string;
  key: IntKey;
  algorithm_id: string;
  name: string;
  display_name: string | null;
  data_type: string;
  value: string | null;
  range_lower: string | null;
  range_upper: string | null;
  model_parameter: Flag;
  position: number;
}

export interface ModelsTable {
  id: string;
  name: string;
  version: string;
  status: string;
  status_text: string | null;
  progress: number;
  stage: string | null;
  active: Flag;
  algorithm_id: string;
  target_id: string;
  ok_image_count: number;
  ng_image_count: number;
  training_time: number | null;
  stats: NullableJson;
  predict_parameters: Json;
  params: Json;
  train_item_ids: Json;
  onnx_blob: string | null;
  input_spec: NullableJson;
  image_blob: string | null;
  created_at: Time;
  updated_at: Time;
}

export interface ItemsTable {
  id: string;
  name: string;
  target_id: string;
  type: string;
  status: string | null;
  active: Flag;
  good: NullableFlag;
  user_label: string | null;
  created_at: Time;
}

export interface AssessmentsTable {
  id: string;
  item_id: string;
  model_id: string;
  result: string;
  label: string | null;
  score: number;
  threshold: number;
  detected_objects: number;
  detection_accuracy: number | null;
  /** The background prediction that made it (null: a synchronous one). */
  job_id: string | null;
  created_at: Time;
}

/** Exactly one owner column is set (a CHECK), so deletes cascade through real foreign keys. */
export interface ImagesTable {
  id: string;
  item_id: string | null;
  assessment_id: string | null;
  model_id: string | null;
  name: string;
  blob: string;
  width: number;
  height: number;
  file_size: number;
  content_type: string;
  position: number;
  created_at: Time;
}

export interface AnnotationsTable {
  id: string;
  key: IntKey;
  item_id: string | null;
  assessment_id: string | null;
  x_min: number | null;
  x_max: number | null;
  y_min: number | null;
  y_max: number | null;
  label: number | null;
  notes: string | null;
  score: number | null;
  created_at: Time;
}

export interface ClientsTable {
  client_id: string;
  secret_hash: string;
  scope: string;
  name: string | null;
  created_at: Time;
  revoked_at: string | null;
  rotated_at: string | null;
}

export interface AuditEventsTable {
  id: string;
  at: Time;
  actor: string;
  actor_kind: string;
  action: string;
  target_type: string | null;
  target_ids: Json;
  outcome: string;
  detail: string | null;
  source: string | null;
}

export interface UsersTable {
  id: string;
  name: string;
  role: string;
  password_hash: string | null;
  disabled: Flag;
  created_at: Time;
  updated_at: Time;
}

export interface UserSessionsTable {
  id: string;
  user_id: string;
  user_agent: string | null;
  created_at: Time;
  last_seen_at: Time;
  expires_at: Time;
  revoked_at: ColumnType<string | null, string | null, string | null>;
}

export interface LicenseTable {
  id: number;
  document: string;
  expires_at: Time | null;
  installed_at: Time;
}

export interface WebhooksTable {
  id: string;
  url: string;
  events: Json;
  target_id: string | null;
  model_id: string | null;
  secret: string;
  description: string | null;
  active: Flag;
  created_at: Time;
  updated_at: Time;
}

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event: string;
  event_key: string;
  payload: string;
  status: string;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Time;
  last_attempt_at: string | null;
  response_code: number | null;
  latency_ms: number | null;
  error: string | null;
  created_at: Time;
}

/** SQLite only: the last integer key handed out per table (PostgreSQL uses sequences). */
export interface KeySequencesTable {
  name: string;
  last: number;
}

/** One row per blob key that a request holds or a deletion is removing (domains/blob-claims.ts). */
export interface BlobClaimsTable {
  key: string;
  holds: number;
  /** Epoch ms: the holds lapse then (a request that died keeps nothing forever). */
  held_until: number;
  /** Token of the deletion removing the blob now; null when none. */
  sweep: string | null;
  sweep_at: number | null;
}

export interface PredictionJobsTable {
  id: string;
  model_id: string;
  model_version: string;
  status: string;
  item_ids: Json;
  total: number;
  errors: Json;
  error_count: number;
  attempts: number;
  status_text: string | null;
  created_at: Time;
  updated_at: Time;
  started_at: Time | null;
  finished_at: Time | null;
}

export interface RegionSetsTable {
  owner_id: string;
  target_id: string | null;
  model_id: string | null;
  regions: Json;
  updated_at: Time;
}

export interface ModelActivationsTable {
  id: string;
  target_id: string;
  model_id: string;
  previous_model_id: string | null;
  actor: string | null;
  at: Time;
}

export interface Database {
  settings: SettingsTable;
  targets: TargetsTable;
  algorithms: AlgorithmsTable;
  algorithm_parameters: AlgorithmParametersTable;
  models: ModelsTable;
  items: ItemsTable;
  assessments: AssessmentsTable;
  images: ImagesTable;
  annotations: AnnotationsTable;
  clients: ClientsTable;
  license: LicenseTable;
  key_sequences: KeySequencesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  blob_claims: BlobClaimsTable;
  prediction_jobs: PredictionJobsTable;
  users: UsersTable;
  user_sessions: UserSessionsTable;
  region_sets: RegionSetsTable;
  model_activations: ModelActivationsTable;
  audit_events: AuditEventsTable;
}

/** Tables whose rows carry a stable integer key. */
export type KeyedTable = 'targets' | 'algorithm_parameters' | 'annotations';
export const KEYED_TABLES: readonly KeyedTable[] = ['targets', 'algorithm_parameters', 'annotations'];
