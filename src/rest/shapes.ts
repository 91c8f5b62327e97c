// GraphQL selections for each REST resource and their mapping to spectro-rest-v1's snake_case
// shapes. Ids stay the gateway's opaque strings (docs/rest.md), enum values become lower case.

export const TARGET_FIELDS = /* GraphQL */ `id name isDefault preprocessing { name active config }`;

export interface GTarget {
  id: string;
  name: string;
  isDefault: boolean;
  preprocessing: { name: string; active: boolean | null; config: string | null }[];
}

export const restTarget = (t: GTarget) => ({
  target_id: t.id,
  name: t.name,
  is_default: t.isDefault,
  preprocessing: t.preprocessing.map((p) => ({ name: p.name, active: p.active, config: p.config })),
});

export const ALGORITHM_FIELDS = /* GraphQL */ `id name version type attribute description createdAt
  parameters { id name displayName dataType value rangeLower rangeUpper modelParameter }`;

export interface GAlgorithm {
  id: string;
  name: string;
  version: string | null;
  type: string | null;
  attribute: string | null;
  description: string | null;
  createdAt: string;
  parameters: {
    id: string;
    name: string;
    displayName: string | null;
    dataType: string;
    value: string | null;
    rangeLower: string | null;
    rangeUpper: string | null;
    modelParameter: boolean | null;
  }[];
}

export const restAlgorithm = (a: GAlgorithm) => ({
  algorithm_id: a.id,
  name: a.name,
  version: a.version,
  type: a.type,
  attribute: a.attribute,
  description: a.description,
  // The original's Python module/class of the algorithm; nothing here corresponds.
  file_name: null,
  class_name: null,
  created_at: a.createdAt,
  updated_at: a.createdAt,
  parameters: a.parameters.map((p) => ({
    algorithm_parameter_id: p.id,
    algorithm_id: a.id,
    name: p.name,
    display_name: p.displayName,
    data_type: p.dataType,
    value: p.value,
    range_lower: p.rangeLower,
    range_upper: p.rangeUpper,
    model_parameter: p.modelParameter,
    created_at: a.createdAt,
    updated_at: a.createdAt,
  })),
});

export const MODEL_FIELDS = /* GraphQL */ `id name version status statusText progress active
  algorithm { id type } target { id }
  okImageCount ngImageCount trainingTime imageUrl createdAt updatedAt
  stats { accuracy method precision { computed projected } recall { computed projected } }
  predictParameters { threshold ignoreOuter minDetectedArea }`;

interface Metric {
  computed: number | null;
  projected: number | null;
}
export interface GModel {
  id: string;
  name: string;
  version: string;
  status: string;
  statusText: string | null;
  progress: number;
  active: boolean;
  algorithm: { id: string; type: string | null };
  target: { id: string };
  okImageCount: number;
  ngImageCount: number;
  trainingTime: number | null;
  imageUrl: string | null;
  createdAt: string;
  updatedAt: string;
  stats: { accuracy: number | null; method: string | null; precision: Metric; recall: Metric } | null;
  predictParameters: { threshold: number; ignoreOuter: number; minDetectedArea: number };
}

const emptyMetric = { computed: null, projected: null };

export const restModel = (m: GModel) => ({
  model_id: m.id,
  name: m.name,
  version: m.version,
  status: m.status.toLowerCase(),
  status_text: m.statusText,
  progress: m.progress,
  active: m.active,
  algorithm_id: m.algorithm.id,
  algorithm_type: m.algorithm.type,
  context_id: m.target.id,
  ok_img_count: m.okImageCount,
  ng_img_count: m.ngImageCount,
  training_time: m.trainingTime,
  image_url: m.imageUrl,
  stats: {
    accuracy: m.stats?.accuracy ?? null,
    precision: m.stats?.precision ?? emptyMetric,
    recall: m.stats?.recall ?? emptyMetric,
    method: m.stats?.method ?? null,
  },
  precision: m.stats?.precision.computed ?? null,
  recall: m.stats?.recall.computed ?? null,
  predict_parameters: {
    threshold: m.predictParameters.threshold,
    ignore_outer: m.predictParameters.ignoreOuter,
    min_detected_area: m.predictParameters.minDetectedArea,
  },
  created_at: m.createdAt,
  updated_at: m.updatedAt,
});

const IMAGE = `name url width height fileSize`;
const ANNOTATION = `id xMin xMax yMin yMax label notes score createdAt`;

/** `$modelId` narrows assessments; the boolean variables drop parts the caller did not ask for. */
export const ITEM_FIELDS = /* GraphQL */ `id name status active isTrainingData good createdAt target { id }
  images { ${IMAGE} }
  userAssessment @include(if: $withAnnotations) { label result annotations { ${ANNOTATION} } }
  assessments(modelId: $modelId) @include(if: $withAssessments) {
    model { id } result label score threshold detectedObjects detectionAccuracy
    annotations @include(if: $withAnnotations) { ${ANNOTATION} }
    images { ${IMAGE} }
  }`;
export const ITEM_VARIABLES = `$modelId: ID, $withAssessments: Boolean!, $withAnnotations: Boolean!`;

interface GImage {
  name: string;
  url: string;
  width: number;
  height: number;
  fileSize: number;
}
interface GAnnotation {
  id: string;
  xMin: number | null;
  xMax: number | null;
  yMin: number | null;
  yMax: number | null;
  label: number | null;
  notes: string | null;
  score: number | null;
  createdAt: string;
}
export interface GItem {
  id: string;
  name: string;
  status: string | null;
  active: boolean;
  isTrainingData: boolean;
  good: boolean | null;
  createdAt: string;
  target: { id: string };
  images: GImage[];
  userAssessment?: { label: string | null; result: string | null; annotations: GAnnotation[] } | null;
  assessments?: {
    model: { id: string };
    result: string;
    label: string | null;
    score: number;
    threshold: number;
    detectedObjects: number;
    detectionAccuracy: number | null;
    annotations?: GAnnotation[];
    images: GImage[];
  }[];
}

const restImage = (i: GImage) => ({ name: i.name, url: i.url, width: i.width, height: i.height, file_size: i.fileSize });
const restAnnotation = (a: GAnnotation) => ({
  annotation_id: a.id,
  x_min: a.xMin,
  x_max: a.xMax,
  y_min: a.yMin,
  y_max: a.yMax,
  label: a.label,
  notes: a.notes,
  score: a.score,
  created_at: a.createdAt,
});

export const restItem = (i: GItem) => ({
  item_id: i.id,
  name: i.name,
  status: i.status,
  active: i.active,
  is_training_data: i.isTrainingData,
  good: i.good,
  target_id: i.target.id,
  created_at: i.createdAt,
  images: i.images.map(restImage),
  ...(i.userAssessment !== undefined
    ? {
        user_assessment: {
          label: i.userAssessment?.label ?? null,
          result: i.userAssessment?.result?.toLowerCase() ?? null,
          images: [],
          annotations: (i.userAssessment?.annotations ?? []).map(restAnnotation),
        },
      }
    : {}),
  ...(i.assessments !== undefined
    ? {
        assessments: i.assessments.map((a) => ({
          model_id: a.model.id,
          result: a.result.toLowerCase(),
          label: a.label,
          score: a.score,
          threshold: a.threshold,
          detected_objects: a.detectedObjects,
          detection_accuracy: a.detectionAccuracy,
          annotations: (a.annotations ?? []).map(restAnnotation),
          images: a.images.map(restImage),
        })),
      }
    : {}),
});
