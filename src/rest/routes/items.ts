import { MAX_PAGE } from '../../schema/connection.ts';
import { RestFailure, data, unprocessable } from '../http.ts';
import { bool, formBody, isFile, jsonBody, positiveInt, queryList, type Route, type RouteContext } from '../router.ts';
import { ITEM_FIELDS, ITEM_VARIABLES, restItem, type GItem } from '../shapes.ts';

const ITEM_TYPES = { training: 'TRAINING', prediction: 'PREDICTION' } as const;

function itemType(url: URL): 'TRAINING' | 'PREDICTION' {
  const raw = url.searchParams.get('item_type');
  const type = raw ? ITEM_TYPES[raw.trim().toLowerCase() as keyof typeof ITEM_TYPES] : undefined;
  if (!type) throw unprocessable('item_type', `item_type is required: "training" or "prediction"${raw ? `, got "${raw}"` : ''}`);
  return type;
}

const LIST_ARGS = `$type: ItemType!, $targetId: ID, $listModelId: ID, $first: Int, $after: String`;
const LIST_CALL = `items(type: $type, targetId: $targetId, modelId: $listModelId, first: $first, after: $after)`;

/**
 * REST pages are numbered, GraphQL pages are cursors: skip to the page's first record by walking
 * cursors (selecting nothing but the cursor), then read the page itself.
 */
async function listItems({ gql, url }: RouteContext): Promise<Response> {
  const type = itemType(url);
  const count = positiveInt(url, 'count', 20, MAX_PAGE);
  const page = positiveInt(url, 'page', 1, 1_000_000);
  const modelId = url.searchParams.get('model_id') || null;
  const filter = { type, targetId: url.searchParams.get('target_id') || null, listModelId: modelId };

  let after: string | null = null;
  let skip = (page - 1) * count;
  while (skip > 0) {
    const first = Math.min(skip, MAX_PAGE);
    const hop: { items: { pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gql(
      `query (${LIST_ARGS}) { ${LIST_CALL} { pageInfo { hasNextPage endCursor } } }`,
      { ...filter, first, after },
    );
    skip -= first;
    after = hop.items.pageInfo.endCursor;
    if (!hop.items.pageInfo.hasNextPage || !after) break;
  }
  const beyondEnd = skip > 0;
  const result = await gql<{ items: { totalCount: number; edges: { node: GItem }[] } }>(
    `query (${LIST_ARGS}, ${ITEM_VARIABLES}) { ${LIST_CALL} { totalCount edges { node { ${ITEM_FIELDS} } } } }`,
    { ...filter, first: beyondEnd ? 0 : count, after, modelId, withAssessments: true, withAnnotations: true },
  );
  const total = result.items.totalCount;
  return data({
    items: beyondEnd ? [] : result.items.edges.map((e) => restItem(e.node)),
    current_page: page,
    end_page: Math.max(1, Math.ceil(total / count)),
    count_per_page: count,
    total_count: total,
  });
}

async function addItems({ gql, request, services }: RouteContext): Promise<Response> {
  const { maxFiles, maxFileBytes } = services.config.upload;
  const form = await formBody(request, maxFiles * (maxFileBytes + 4096) + 65_536);
  const files = [...form.getAll('files'), ...form.getAll('files[]')].filter(isFile);
  if (files.length === 0) throw unprocessable('files', 'files is required: one or more image files as multipart parts named "files"');
  const training = bool(form.get('training'), 'training');
  if (training === null) throw unprocessable('training', 'training is required: true for training items, false for prediction items');
  const text = (key: string) => {
    const v = form.get(key);
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
  };
  const { addItems: payload } = await gql<{ addItems: { items: { id: string }[] } }>(
    `mutation ($files: [File!]!, $training: Boolean!, $good: Boolean, $targetId: ID, $modelId: ID) {
      addItems(files: $files, training: $training, good: $good, targetId: $targetId, modelId: $modelId) { items { id } }
    }`,
    { files: files.map(() => null), training, good: bool(form.get('good'), 'good'), targetId: text('target_id'), modelId: text('model_id') },
    files.map((file, i) => ({ variable: `files.${i}`, file })),
  );
  return data({ item_ids: payload.items.map((i) => i.id) }, 201);
}

async function getItem({ gql, url, params }: RouteContext): Promise<Response> {
  const { item } = await gql<{ item: GItem | null }>(`query ($id: ID!, ${ITEM_VARIABLES}) { item(id: $id) { ${ITEM_FIELDS} } }`, {
    id: params.itemId,
    modelId: url.searchParams.get('model_id') || null,
    withAssessments: bool(url.searchParams.get('show_assessments'), 'show_assessments', true),
    withAnnotations: bool(url.searchParams.get('show_annotations'), 'show_annotations', true),
  });
  if (!item) throw new RestFailure(404, `Item "${params.itemId}" does not exist`, { code: 'NOT_FOUND' });
  return data(restItem(item));
}

const coord = (a: Record<string, unknown>, key: string, i: number) => {
  const v = a[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw unprocessable(`annotations.${i}.${key}`, `annotations[${i}].${key} must be a number`);
  return v;
};

async function annotate({ gql, params, request }: RouteContext): Promise<Response> {
  const body = await jsonBody(request);
  if (!Array.isArray(body.annotations)) throw unprocessable('annotations', 'annotations must be a list of boxes (an empty list clears them)');
  const annotations = body.annotations.map((raw: unknown, i: number) => {
    if (!raw || typeof raw !== 'object') throw unprocessable(`annotations.${i}`, `annotations[${i}] must be an object`);
    const a = raw as Record<string, unknown>;
    const label = coord(a, 'label', i);
    if (label !== null && !Number.isInteger(label)) throw unprocessable(`annotations.${i}.label`, `annotations[${i}].label must be an integer`);
    if (a.notes !== undefined && a.notes !== null && typeof a.notes !== 'string') {
      throw unprocessable(`annotations.${i}.notes`, `annotations[${i}].notes must be a string`);
    }
    return {
      xMin: coord(a, 'x_min', i),
      xMax: coord(a, 'x_max', i),
      yMin: coord(a, 'y_min', i),
      yMax: coord(a, 'y_max', i),
      label,
      notes: (a.notes as string | undefined) ?? null,
    };
  });
  await gql(`mutation ($id: ID!, $annotations: [AnnotationInput!]!) { annotateItem(id: $id, annotations: $annotations) { id } }`, {
    id: params.itemId,
    annotations,
  });
  return new Response(null, { status: 202 });
}

export const itemRoutes: Route[] = [
  { method: 'GET', path: '/api/v1/items', handler: listItems },
  { method: 'POST', path: '/api/v1/items', handler: addItems },
  {
    method: 'DELETE',
    path: '/api/v1/items',
    // Not in spectro-rest-v1: the GraphQL deleteItems, for symmetry with DELETE /models.
    handler: async ({ gql, url }) => {
      const ids = queryList(url, 'item_ids');
      if (ids.length === 0) throw unprocessable('item_ids', 'item_ids is required (one or more item ids)');
      const { deleteItems } = await gql<{ deleteItems: string[] }>(`mutation ($ids: [ID!]!) { deleteItems(ids: $ids) }`, { ids });
      return data({ item_ids: deleteItems });
    },
  },
  { method: 'GET', path: '/api/v1/items/:itemId', handler: getItem },
  { method: 'PATCH', path: '/api/v1/items/:itemId', handler: annotate },
];
