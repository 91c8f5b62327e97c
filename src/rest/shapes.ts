import type { Links } from '../links.ts';
import type { Loaders } from '../loaders.ts';
import type {
  AlgorithmParameterRecord,
  AlgorithmRecord,
  AnnotationRecord,
  ImageRecord,
  ItemRecord,
  ModelRecord,
  TargetRecord,
} from '../runtime/store/types.ts';
import type { RestAlgorithm, RestAnnotation, RestImage, RestItem, RestModel, RestTarget } from './contract/schemas.ts';

// Records in spectro-rest-v1's shapes. Integer ids are the records' stable keys (target_id,
// context_id, algorithm_parameter_id, annotation_id); enum values are the GraphQL ones (GOOD/BAD,
// READY...), the same as in the results CSV. A field the original types as a plain string is
// left out rather than sent as null.

export interface ShapeDeps {
  loaders: Loaders;
  links: Links;
}

export const restTarget = (t: TargetRecord): RestTarget => ({
  target_id: t.key,
  name: t.name,
  preprocessing: t.preprocessing.map((p) => ({ name: p.name, active: p.active, config: p.config })),
  is_default: t.isDefault,
});

/** "Pattern Matching" -> "PatternMatching": the original named the Python class behind an algorithm. */
const className = (name: string) => name.replace(/(^|[^A-Za-z0-9]+)([A-Za-z0-9])/g, (_m, _s, c: string) => c.toUpperCase());

export const restAlgorithm = (a: AlgorithmRecord, params: readonly AlgorithmParameterRecord[]): RestAlgorithm => ({
  algorithm_id: a.id,
  name: a.name,
  version: a.version,
  ...(a.type !== null ? { type: a.type } : {}),
  ...(a.attribute !== null ? { attribute: a.attribute } : {}),
  description: a.description,
  // The original's module and class of the algorithm: here the training module and its name.
  file_name: `${a.id}.ts`,
  class_name: className(a.name),
  created_at: a.createdAt,
  updated_at: a.createdAt,
  parameters: params.map((p) => ({
    algorithm_parameter_id: p.key,
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

export async function restAlgorithms(algorithms: readonly AlgorithmRecord[], { loaders }: Pick<ShapeDeps, 'loaders'>): Promise<RestAlgorithm[]> {
  const params = await Promise.all(algorithms.map((a) => loaders.parametersByAlgorithm.load(a.id)));
  return algorithms.map((a, i) => restAlgorithm(a, params[i]!));
}

const emptyMetric = { computed: null, projected: null };

export async function restModels(models: readonly ModelRecord[], { loaders, links }: ShapeDeps): Promise<RestModel[]> {
  const [algorithms, targets] = await Promise.all([
    Promise.all(models.map((m) => loaders.algorithm.load(m.algorithmId))),
    Promise.all(models.map((m) => loaders.target.load(m.targetId))),
  ]);
  return models.map((m, i) => ({
    model_id: m.id,
    name: m.name,
    version: m.version,
    status: m.status,
    status_text: m.statusText,
    progress: m.progress,
    active: m.active,
    algorithm_id: m.algorithmId,
    algorithm_type: algorithms[i]!.type ?? algorithms[i]!.id,
    context_id: targets[i]!.key,
    ok_img_count: m.okImageCount,
    ng_img_count: m.ngImageCount,
    training_time: m.trainingTime === null ? null : Math.round(m.trainingTime),
    image_url: m.imageBlob ? links.blob(m.imageBlob, 'image/png') : null,
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
  }));
}

export const restModel = async (m: ModelRecord, deps: ShapeDeps): Promise<RestModel> => (await restModels([m], deps))[0]!;

const restImage = (i: ImageRecord, links: Links): RestImage => ({
  name: i.name,
  url: links.image(i),
  width: i.width,
  height: i.height,
  file_size: i.fileSize,
});

const restAnnotation = (a: AnnotationRecord): RestAnnotation => ({
  annotation_id: a.key,
  x_min: a.xMin,
  x_max: a.xMax,
  y_min: a.yMin,
  y_max: a.yMax,
  label: a.label,
  notes: a.notes,
  score: a.score,
  created_at: a.createdAt,
});

export interface ItemView {
  /** Narrows the assessments to one model (an id). */
  modelId?: string | null;
  withAssessments: boolean;
  withAnnotations: boolean;
}

const resultOf = (good: boolean | null) => (good === null ? {} : { result: good ? ('GOOD' as const) : ('BAD' as const) });

export async function restItems(items: readonly ItemRecord[], view: ItemView, { loaders, links }: ShapeDeps): Promise<RestItem[]> {
  const modelId = view.modelId ?? null;
  const [targets, images, everyAssessment, shown, userBoxes] = await Promise.all([
    Promise.all(items.map((i) => loaders.target.load(i.targetId))),
    Promise.all(items.map((i) => loaders.imagesByItem.load(i.id))),
    Promise.all(items.map((i) => loaders.assessmentsByItem.load({ itemId: i.id, modelId: null }))),
    view.withAssessments ? Promise.all(items.map((i) => loaders.assessmentsByItem.load({ itemId: i.id, modelId }))) : null,
    view.withAnnotations ? Promise.all(items.map((i) => loaders.userAnnotationsByItem.load(i.id))) : null,
  ]);
  const assessments = shown?.flat() ?? [];
  const [boxes, heatmaps] = await Promise.all([
    view.withAnnotations ? Promise.all(assessments.map((a) => loaders.annotationsByAssessment.load(a.id))) : null,
    Promise.all(assessments.map((a) => loaders.imagesByAssessment.load(a.id))),
  ]);
  const boxesOf = new Map(assessments.map((a, i) => [a.id, boxes?.[i] ?? []]));
  const heatmapsOf = new Map(assessments.map((a, i) => [a.id, heatmaps[i]!]));

  return items.map(
    (item, n): RestItem => ({
      item_id: item.id,
      name: item.name,
      status: item.status === 'PREDICTED' || everyAssessment[n]!.length > 0 ? 'PREDICTED' : 'UPLOADED',
      active: item.active,
      is_training_data: item.type === 'TRAINING',
      good: item.good,
      target_id: targets[n]!.key,
      created_at: item.createdAt,
      images: images[n]!.map((i) => restImage(i, links)),
      ...(userBoxes
        ? {
            user_assessment: {
              ...(item.userLabel !== null ? { label: item.userLabel } : {}),
              ...resultOf(item.good),
              images: [],
              annotations: userBoxes[n]!.map(restAnnotation),
            },
          }
        : {}),
      ...(shown
        ? {
            assessments: shown[n]!.map((a) => ({
              model_id: a.modelId,
              result: a.result,
              ...(a.label !== null ? { label: a.label } : {}),
              score: a.score,
              threshold: a.threshold,
              detected_objects: a.detectedObjects,
              detection_accuracy: a.detectionAccuracy === null ? null : Math.round(a.detectionAccuracy),
              annotations: (boxesOf.get(a.id) ?? []).map(restAnnotation),
              images: (heatmapsOf.get(a.id) ?? []).map((i) => restImage(i, links)),
              created_at: a.createdAt,
            })),
          }
        : {}),
    }),
  );
}
