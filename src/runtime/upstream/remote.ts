import { z } from 'zod';
import { AppError, ErrorCode } from '../../errors.ts';
import type { UpstreamClient } from './upstream.ts';

// The REST shapes of spectro-rest-v1 read leniently (every field optional, ints or strings for
// ids) and turned into camelCase records the GraphQL Remote* types expose.

const id = z.union([z.string(), z.number()]).transform(String);
const str = z
  .string()
  .nullish()
  .transform((v) => v ?? null);
const num = z
  .number()
  .nullish()
  .transform((v) => v ?? null);
const bool = z
  .boolean()
  .nullish()
  .transform((v) => v ?? null);

const preprocessing = z.object({ name: z.string(), active: bool, config: str });
const target = z.object({ target_id: id, name: z.string().nullish(), preprocessing: z.array(preprocessing).nullish() });

const parameter = z.object({
  algorithm_parameter_id: id.nullish(),
  name: z.string(),
  display_name: str,
  data_type: str,
  value: str,
  range_lower: str,
  range_upper: str,
  model_parameter: bool,
});
const algorithm = z.object({
  algorithm_id: id,
  name: z.string().nullish(),
  version: str,
  type: str,
  attribute: str,
  description: str,
  parameters: z.array(parameter).nullish(),
  created_at: str,
  updated_at: str,
});

const pr = z.object({ computed: num, projected: num }).nullish();
const model = z.object({
  model_id: id,
  name: str,
  version: str,
  status: str,
  status_text: str,
  active: bool,
  algorithm_id: id.nullish(),
  algorithm_type: str,
  context_id: id.nullish(),
  ok_img_count: num,
  ng_img_count: num,
  training_time: num,
  image_url: str,
  stats: z.object({ accuracy: num, precision: pr, recall: pr }).nullish(),
  precision: num,
  recall: num,
  created_at: str,
  updated_at: str,
});

const image = z.object({ name: str, url: str, width: num, height: num, file_size: num });
const annotation = z.object({
  annotation_id: id.nullish(),
  x_min: num,
  x_max: num,
  y_min: num,
  y_max: num,
  label: num,
  notes: str,
  created_at: str,
});
const assessment = z.object({
  model_id: id.nullish(),
  result: str,
  label: str,
  detected_objects: num,
  detection_accuracy: num,
  annotations: z.array(annotation).nullish(),
  images: z.array(image).nullish(),
});
const item = z.object({
  item_id: id,
  name: str,
  status: str,
  active: bool,
  is_training_data: bool,
  images: z.array(image).nullish(),
  assessments: z.array(assessment).nullish(),
  user_assessment: z.object({ label: str, result: str, annotations: z.array(annotation).nullish(), images: z.array(image).nullish() }).nullish(),
});
const itemPage = z.object({
  items: z.array(item).nullish(),
  current_page: num,
  end_page: num,
  count_per_page: num,
});

/** REST answers wrap their payload in `{ data }`. */
const dataOf = (body: unknown) => (body as { data?: unknown } | null)?.data;

export type RemoteTarget = ReturnType<typeof toTarget>;
export type RemoteAlgorithm = ReturnType<typeof toAlgorithm>;
export type RemoteModel = ReturnType<typeof toModel>;
export type RemoteItem = ReturnType<typeof toItem>;
export type RemoteImage = ReturnType<typeof toImage>;
export type RemoteAnnotation = ReturnType<typeof toAnnotation>;
export type RemoteAssessment = RemoteItem['assessments'][number];
export interface RemoteItemPage {
  items: RemoteItem[];
  currentPage: number;
  endPage: number;
  countPerPage: number;
}

const toTarget = (t: z.infer<typeof target>) => ({
  id: t.target_id,
  name: t.name ?? '',
  preprocessing: t.preprocessing ?? [],
});

const toAlgorithm = (a: z.infer<typeof algorithm>) => ({
  id: a.algorithm_id,
  name: a.name ?? a.algorithm_id,
  version: a.version,
  type: a.type,
  attribute: a.attribute,
  description: a.description,
  createdAt: a.created_at,
  updatedAt: a.updated_at,
  parameters: (a.parameters ?? []).map((p) => ({
    id: p.algorithm_parameter_id ?? p.name,
    name: p.name,
    displayName: p.display_name,
    dataType: p.data_type ?? 'string',
    value: p.value,
    rangeLower: p.range_lower,
    rangeUpper: p.range_upper,
    modelParameter: p.model_parameter,
  })),
});

const toModel = (m: z.infer<typeof model>) => ({
  id: m.model_id,
  name: m.name ?? m.model_id,
  version: m.version,
  status: m.status,
  statusText: m.status_text,
  active: m.active ?? false,
  algorithmId: m.algorithm_id ?? null,
  algorithmType: m.algorithm_type,
  targetId: m.context_id ?? null,
  okImageCount: m.ok_img_count,
  ngImageCount: m.ng_img_count,
  trainingTime: m.training_time,
  imageUrl: m.image_url,
  stats: m.stats
    ? {
        accuracy: m.stats.accuracy,
        precision: m.stats.precision ?? { computed: m.precision, projected: null },
        recall: m.stats.recall ?? { computed: m.recall, projected: null },
      }
    : null,
  createdAt: m.created_at,
  updatedAt: m.updated_at,
});

const toImage = (i: z.infer<typeof image>) => ({
  name: i.name ?? '',
  url: i.url,
  width: i.width,
  height: i.height,
  fileSize: i.file_size,
});

const toAnnotation = (a: z.infer<typeof annotation>) => ({
  id: a.annotation_id ?? null,
  xMin: a.x_min,
  xMax: a.x_max,
  yMin: a.y_min,
  yMax: a.y_max,
  label: a.label,
  notes: a.notes,
  createdAt: a.created_at,
});

const toItem = (i: z.infer<typeof item>) => ({
  id: i.item_id,
  name: i.name ?? i.item_id,
  status: i.status,
  active: i.active ?? true,
  isTrainingData: i.is_training_data ?? false,
  images: (i.images ?? []).map(toImage),
  assessments: (i.assessments ?? []).map((a) => ({
    modelId: a.model_id ?? null,
    result: a.result,
    label: a.label,
    detectedObjects: a.detected_objects,
    detectionAccuracy: a.detection_accuracy,
    annotations: (a.annotations ?? []).map(toAnnotation),
    images: (a.images ?? []).map(toImage),
  })),
  userAssessment: i.user_assessment
    ? {
        label: i.user_assessment.label,
        result: i.user_assessment.result,
        annotations: (i.user_assessment.annotations ?? []).map(toAnnotation),
        images: (i.user_assessment.images ?? []).map(toImage),
      }
    : null,
});

/** Parses an upstream answer; a shape we cannot read is the upstream's fault, so UNAVAILABLE. */
function parse<T extends z.ZodType>(client: UpstreamClient, schema: T, body: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue ? `${issue.path.join('.')}: ${issue.message}` : 'unexpected shape';
  throw new AppError(ErrorCode.UNAVAILABLE, `upstream "${client.name}" answered ${what} in an unexpected shape (${where})`, {
    upstream: client.name,
  });
}

/** Null instead of NOT_FOUND, for `thing(id)` fields. */
async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof AppError && err.code === ErrorCode.NOT_FOUND) return null;
    throw err;
  }
}

const seg = encodeURIComponent;

/** The spectro-rest-v1 operations of one upstream, as records. */
export function remoteApi(client: UpstreamClient) {
  const get = async <T extends z.ZodType>(
    path: string,
    schema: T,
    what: string,
    query?: Record<string, string | number | readonly string[] | undefined>,
  ): Promise<z.infer<T>> => parse(client, schema, dataOf(await client.json({ method: 'GET', path, query })), what);

  return {
    targets: async () => (await get('/api/v1/targets/', z.array(target), 'targets')).map(toTarget),
    target: (targetId: string) => orNull(get(`/api/v1/targets/${seg(targetId)}`, target, 'a target').then(toTarget)),
    algorithms: async () => (await get('/api/v1/algorithms/', z.array(algorithm), 'algorithms')).map(toAlgorithm),
    algorithm: (algorithmId: string) => orNull(get(`/api/v1/algorithms/${seg(algorithmId)}`, algorithm, 'an algorithm').then(toAlgorithm)),
    models: async (algorithmId?: string | null) =>
      (await get('/api/v1/models/', z.array(model), 'models', { algorithm_id: algorithmId ?? undefined })).map(toModel),
    model: (modelId: string) => orNull(get(`/api/v1/models/${seg(modelId)}`, model, 'a model').then(toModel)),
    items: async (args: { type: 'training' | 'prediction'; modelId?: string | null; page?: number; count?: number }): Promise<RemoteItemPage> => {
      const page = await get('/api/v1/items/', itemPage, 'items', {
        item_type: args.type,
        model_id: args.modelId ?? undefined,
        page: args.page,
        count: args.count,
      });
      return {
        items: (page.items ?? []).map(toItem),
        currentPage: page.current_page ?? args.page ?? 1,
        endPage: page.end_page ?? 1,
        countPerPage: page.count_per_page ?? args.count ?? page.items?.length ?? 0,
      };
    },
    item: (itemId: string, modelId?: string | null) =>
      orNull(
        get(`/api/v1/items/${seg(itemId)}`, item, 'an item', {
          show_assessments: 'true',
          show_annotations: 'true',
          model_id: modelId ?? undefined,
        }).then(toItem),
      ),
    requestPrediction: async (modelId: string, itemIds: string[]) => {
      const body = await client.json({ method: 'POST', path: `/api/v1/models/${seg(modelId)}/predict`, json: { item_ids: itemIds } });
      const data = parse(client, z.object({ item_ids: z.array(id).nullish(), model_version: str }), dataOf(body), 'a prediction');
      return { itemIds: data.item_ids ?? itemIds, modelVersion: data.model_version };
    },
    trainModel: async (
      algorithmId: string,
      args: { name?: string | null; itemIds?: string[] | null; overrideParams?: { parameterId: string; value: string }[] | null },
    ) => {
      const json = {
        name: args.name ?? undefined,
        item_ids: args.itemIds ?? undefined,
        override_params: args.overrideParams?.map((p) => ({
          algorithm_parameter_id: /^\d+$/.test(p.parameterId) ? Number(p.parameterId) : p.parameterId,
          value: p.value,
        })),
      };
      const body = await client.json({ method: 'POST', path: `/api/v1/algorithms/${seg(algorithmId)}/train`, json });
      return toModel(parse(client, model, dataOf(body), 'a model'));
    },
  };
}

export type RemoteApi = ReturnType<typeof remoteApi>;
