// Row shapes as SQLite returns them, and their mapping to the domain records.
import type {
  AlgorithmParameterRecord,
  AlgorithmRecord,
  AnnotationRecord,
  AssessmentRecord,
  ClientRecord,
  ImageRecord,
  ItemRecord,
  ModelRecord,
  TargetRecord,
} from './types.ts';

type Row = Record<string, unknown>;
const str = (v: unknown) => v as string;
const strOrNull = (v: unknown) => (v === null || v === undefined ? null : (v as string));
const num = (v: unknown) => v as number;
const numOrNull = (v: unknown) => (v === null || v === undefined ? null : (v as number));
const boolOrNull = (v: unknown) => (v === null || v === undefined ? null : v === 1);
const json = <T>(v: unknown, fallback: T): T => (v === null || v === undefined ? fallback : (JSON.parse(v as string) as T));

export const toTarget = (r: Row): TargetRecord => ({
  id: str(r.id),
  name: str(r.name),
  isDefault: r.is_default === 1,
  preprocessing: json(r.preprocessing, []),
  createdAt: str(r.created_at),
});

export const toAlgorithm = (r: Row): AlgorithmRecord => ({
  id: str(r.id),
  name: str(r.name),
  version: strOrNull(r.version),
  type: strOrNull(r.type),
  attribute: strOrNull(r.attribute),
  description: strOrNull(r.description),
  createdAt: str(r.created_at),
});

export const toParameter = (r: Row): AlgorithmParameterRecord => ({
  id: str(r.id),
  algorithmId: str(r.algorithm_id),
  name: str(r.name),
  displayName: strOrNull(r.display_name),
  dataType: str(r.data_type),
  value: strOrNull(r.value),
  rangeLower: strOrNull(r.range_lower),
  rangeUpper: strOrNull(r.range_upper),
  modelParameter: r.model_parameter === 1,
});

export const toModel = (r: Row): ModelRecord => ({
  id: str(r.id),
  name: str(r.name),
  version: str(r.version),
  status: str(r.status) as ModelRecord['status'],
  statusText: strOrNull(r.status_text),
  progress: num(r.progress),
  stage: strOrNull(r.stage),
  active: r.active === 1,
  algorithmId: str(r.algorithm_id),
  targetId: str(r.target_id),
  okImageCount: num(r.ok_image_count),
  ngImageCount: num(r.ng_image_count),
  trainingTime: numOrNull(r.training_time),
  stats: json(r.stats, null),
  predictParameters: json(r.predict_parameters, { threshold: 0.5, ignoreOuter: 0, minDetectedArea: 0 }),
  params: json(r.params, {}),
  trainItemIds: json(r.train_item_ids, []),
  onnxBlob: strOrNull(r.onnx_blob),
  inputSpec: json(r.input_spec, null),
  imageBlob: strOrNull(r.image_blob),
  createdAt: str(r.created_at),
  updatedAt: str(r.updated_at),
});

export const toItem = (r: Row): ItemRecord => ({
  id: str(r.id),
  name: str(r.name),
  targetId: str(r.target_id),
  type: str(r.type) as ItemRecord['type'],
  status: strOrNull(r.status),
  active: r.active === 1,
  good: boolOrNull(r.good),
  userLabel: strOrNull(r.user_label),
  createdAt: str(r.created_at),
});

export const toImage = (r: Row): ImageRecord => ({
  id: str(r.id),
  ownerKind: r.item_id != null ? 'item' : r.assessment_id != null ? 'assessment' : 'model',
  ownerId: str(r.item_id ?? r.assessment_id ?? r.model_id),
  name: str(r.name),
  blob: str(r.blob),
  width: num(r.width),
  height: num(r.height),
  fileSize: num(r.file_size),
  contentType: str(r.content_type),
  position: num(r.position),
  createdAt: str(r.created_at),
});

export const toAssessment = (r: Row): AssessmentRecord => ({
  id: str(r.id),
  itemId: str(r.item_id),
  modelId: str(r.model_id),
  result: str(r.result) as AssessmentRecord['result'],
  label: strOrNull(r.label),
  score: num(r.score),
  threshold: num(r.threshold),
  detectedObjects: num(r.detected_objects),
  detectionAccuracy: numOrNull(r.detection_accuracy),
  createdAt: str(r.created_at),
});

export const toAnnotation = (r: Row): AnnotationRecord => ({
  id: str(r.id),
  ownerKind: r.item_id != null ? 'user' : 'assessment',
  ownerId: str(r.item_id ?? r.assessment_id),
  xMin: numOrNull(r.x_min),
  xMax: numOrNull(r.x_max),
  yMin: numOrNull(r.y_min),
  yMax: numOrNull(r.y_max),
  label: numOrNull(r.label),
  notes: strOrNull(r.notes),
  score: numOrNull(r.score),
  createdAt: str(r.created_at),
});

export const toClient = (r: Row): ClientRecord => ({
  clientId: str(r.client_id),
  secretHash: str(r.secret_hash),
  scope: str(r.scope) as ClientRecord['scope'],
  name: strOrNull(r.name),
  createdAt: str(r.created_at),
});

/** SQLite has no booleans: 1/0, and NULL for "unknown". */
export const bit = (v: boolean | null | undefined) => (v === null || v === undefined ? null : v ? 1 : 0);
