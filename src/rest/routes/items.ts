import { MAX_PAGE } from '../../schema/connection.ts';
import { AddItemRequest, AddItemResponseWrapper, AnnotateItemRequest, GetItemsResponseWrapper, ItemIdsResponse, ItemWrapper } from '../contract/schemas.ts';
import { ext, queryList, textBool, textId, textInt, z } from '../contract/zod.ts';
import { RestFailure, unprocessable } from '../http.ts';
import { defineOperation, jsonContent, reply, responses } from '../operation.ts';
import { modelByRestRef, targetByRestId } from '../resolve.ts';
import { restItems } from '../shapes.ts';
import { AppError, ErrorCode } from '../../errors.ts';
import type { ItemRecord } from '../../runtime/store/types.ts';

const itemType = z
  .string()
  .trim()
  .toUpperCase()
  .pipe(z.enum(['TRAINING', 'PREDICTION'], { error: (iss) => `must be "prediction" or "training", got ${JSON.stringify(iss.input)}` }))
  .meta({ override: { type: 'string', enum: ['prediction', 'training'], description: 'prediction or training (case-insensitive)' } });

const itemId = z.object({ item_id: z.string() });

async function itemById(call: Parameters<typeof modelByRestRef>[0], id: string): Promise<ItemRecord> {
  try {
    return await call.loaders.item.load(id);
  } catch (err) {
    if (err instanceof AppError && err.code === ErrorCode.NOT_FOUND) {
      throw new RestFailure(404, `Item "${id}" does not exist`, { code: 'NOT_FOUND', messages: [{ key: 'item_id', errors: [`Item "${id}" does not exist`] }] });
    }
    throw err;
  }
}

export const itemOperations = [
  defineOperation({
    operationId: 'getItemsByType',
    method: 'get',
    path: '/api/v1/items/',
    tag: 'items',
    summary: 'Get List of Items',
    description:
      'Returns items based on given `item_type` (prediction, training), newest first, of the default inspection target (the one training uses), or of `target_id`; with `model_id`, the items that model judged or was trained on, and their assessments to that model. `page` starts at 1 (a page past the end has no items), `count` is 1..100 (default 20).',
    scope: 'read',
    query: z.object({
      count: textInt(1, MAX_PAGE).optional(),
      page: textInt(1, 1_000_000).optional(),
      model_id: z.string().optional(),
      item_type: itemType,
      target_id: ext(textId().optional(), 'Only the items of this target'),
    }),
    responses: responses('200', 'OK', jsonContent(GetItemsResponseWrapper)),
    handler: async (call) => {
      const { count = 20, page = 1, item_type: type, model_id, target_id } = call.query;
      const model = model_id ? await modelByRestRef(call, model_id) : null;
      // the default target's, as training takes them (a client lists, then trains on what it listed)
      const target = target_id !== undefined ? await targetByRestId(call, target_id) : model ? null : await call.services.store.defaultTarget();
      if (!model && !target) {
        return reply(GetItemsResponseWrapper, { data: { items: [], current_page: page, end_page: 1, count_per_page: count, total_count: 0 } });
      }
      const filter = { type, targetId: target?.id ?? null, modelId: model?.id ?? null };
      // REST pages are numbered, the store pages by cursor: hop over the earlier pages by id only.
      const { store } = call.services;
      let after: string | null = null;
      let skip = (page - 1) * count;
      while (skip > 0) {
        const hop = await store.pageItems(filter, { first: Math.min(skip, MAX_PAGE), after });
        skip -= hop.nodes.length;
        after = hop.endCursor;
        if (!hop.hasNextPage || !after) break;
      }
      const rows = skip > 0 ? null : await store.pageItems(filter, { first: count, after });
      const total = await store.countItems(filter);
      const items = rows ? await restItems(rows.nodes, { modelId: model?.id, withAssessments: true, withAnnotations: true }, call) : [];
      return reply(GetItemsResponseWrapper, {
        data: { items, current_page: page, end_page: Math.max(1, Math.ceil(total / count)), count_per_page: count, total_count: total },
      });
    },
  }),
  defineOperation({
    operationId: 'addItem',
    method: 'post',
    path: '/api/v1/items/',
    tag: 'items',
    summary: 'Add Item',
    description:
      'Add prediction or training item/s, one per file (JPEG, PNG, WebP, TIFF, GIF; each decoded before anything is stored; one bad file fails the whole request). This endpoint also gives you an option to tag an item as Good or Bad. Items go to target_id, else to the target of model_id, else to the default target (created as "default" when there is none).',
    scope: 'all',
    body: { multipart: AddItemRequest, required: true },
    renames: { modelId: 'model_id', targetId: 'target_id' },
    responses: responses('201', 'CREATED', jsonContent(AddItemResponseWrapper)),
    handler: async (call) => {
      const { files = [], training, good, model_id, target_id } = call.body;
      if (files.length === 0) throw unprocessable('files', 'files is required: one or more pictures as multipart parts named "files"');
      const target = target_id !== undefined ? await targetByRestId(call, target_id) : null;
      const model = model_id ? await modelByRestRef(call, model_id) : null;
      const { items } = await call.services.items.addUploaded({
        files,
        training,
        good: good ?? null,
        targetId: target?.id ?? null,
        modelId: model?.id ?? null,
      });
      return reply(AddItemResponseWrapper, { data: { item_ids: items.map((i) => i.id) } }, 201);
    },
  }),
  defineOperation({
    operationId: 'deleteItems',
    method: 'delete',
    path: '/api/v1/items/',
    tag: 'items',
    summary: 'Delete Items',
    description: 'Deletes items with their pictures and assessments.',
    extension: 'The original cannot delete items; the same as GraphQL deleteItems.',
    scope: 'all',
    query: z.object({ item_ids: queryList().optional() }),
    renames: { ids: 'item_ids' },
    responses: responses('200', 'OK', jsonContent(ItemIdsResponse)),
    handler: async (call) => {
      const ids = [...new Set(call.query.item_ids ?? [])];
      if (ids.length === 0) throw unprocessable('item_ids', 'item_ids is required (one or more item ids)');
      return reply(ItemIdsResponse, { data: { item_ids: await call.services.items.delete(ids) } });
    },
  }),
  defineOperation({
    operationId: 'getItemById',
    method: 'get',
    path: '/api/v1/items/{item_id}',
    tag: 'items',
    summary: 'Get Item by Id',
    description: 'Get specific item and annotations. show_assessments and show_annotations default to true.',
    scope: 'read',
    params: itemId,
    query: z.object({ show_assessments: textBool().optional(), show_annotations: textBool().optional(), model_id: z.string().optional() }),
    responses: responses('200', 'OK', jsonContent(ItemWrapper)),
    handler: async (call) => {
      const item = await itemById(call, call.params.item_id);
      const { show_assessments = true, show_annotations = true, model_id } = call.query;
      const model = model_id ? await modelByRestRef(call, model_id) : null;
      const [shaped] = await restItems([item], { modelId: model?.id, withAssessments: show_assessments, withAnnotations: show_annotations }, call);
      return reply(ItemWrapper, { data: shaped });
    },
  }),
  defineOperation({
    operationId: 'annotate',
    method: 'patch',
    path: '/api/v1/items/{item_id}',
    tag: 'items',
    summary: 'Annotate an item',
    description: "Replaces the user's boxes on the item (pixels of the original picture).",
    scope: 'all',
    params: itemId,
    body: { json: AnnotateItemRequest, required: true },
    responses: responses('202', 'ACCEPTED', null),
    handler: async (call) => {
      const item = await itemById(call, call.params.item_id);
      const { annotations } = call.body;
      if (annotations !== undefined) {
        await call.services.items.annotate({
          itemId: item.id,
          annotations: annotations.map((a) => ({ xMin: a.x_min, xMax: a.x_max, yMin: a.y_min, yMax: a.y_max, label: a.label, notes: a.notes ?? null })),
        });
      }
      return new Response(null, { status: 202 });
    },
  }),
];
