import { actorOf } from '../../runtime/auth/auth.ts';
import { MAX_PAGE } from '../../schema/connection.ts';
import {
  HModelListWrapper,
  HModelWrapper,
  ImportModels,
  ModelIdsQuery,
  ModelIdsQueryWrapper,
  Predict,
  PredictItemsResponseWrapper,
} from '../contract/schemas.ts';
import { ext, queryList, textId, z } from '../contract/zod.ts';
import { download } from '../download.ts';
import { unprocessable } from '../http.ts';
import { defineOperation, jsonContent, reply, responses, type RestCall } from '../operation.ts';
import { modelByRestRef, targetByRestId } from '../resolve.ts';
import { restModel, restModels } from '../shapes.ts';
import type { ModelRecord } from '../../runtime/store/types.ts';

/** Largest model archive the REST import reads. */
const MAX_IMPORT_BYTES = 512 * 1024 * 1024;
/** Most ids in one list (as the GraphQL mutations). */
const MAX_IDS = 1000;

const modelId = z.object({ model_id: z.string().meta({ description: 'The model id, set to "active" to use current active model' }) });

/** Distinct ids of a list field, 422 naming it when empty or too long. */
function idsOf(list: readonly string[] | undefined, key: string): string[] {
  const ids = [...new Set(list ?? [])];
  if (ids.length === 0) throw unprocessable(key, `${key} is required (one or more ids)`);
  if (ids.length > MAX_IDS) throw unprocessable(key, `${key} takes at most ${MAX_IDS} ids, got ${ids.length}; send them in parts`);
  return ids;
}

const modelsOf = async (call: RestCall, refs: readonly string[], key: string): Promise<ModelRecord[]> => [
  ...new Map((await Promise.all(refs.map((ref) => modelByRestRef(call, ref, key)))).map((m) => [m.id, m])).values(),
];

export const modelOperations = [
  defineOperation({
    operationId: 'getModels',
    method: 'get',
    path: '/api/v1/models/',
    tag: 'models',
    summary: 'Get List of Models',
    description: 'Get all models of the default inspection target (the one training uses), or of `target_id` (newest first)',
    scope: 'read',
    query: z.object({ algorithm_id: z.string().optional(), target_id: ext(textId().optional(), 'The models of this target instead of the default one') }),
    responses: responses('200', 'OK', jsonContent(HModelListWrapper)),
    handler: async (call) => {
      const out: ModelRecord[] = [];
      const { target_id } = call.query;
      const target = target_id !== undefined ? await targetByRestId(call, target_id) : await call.services.store.defaultTarget();
      if (!target) return reply(HModelListWrapper, { data: [] });
      let after: string | null = null;
      // The REST list is unpaged: read the store's pages to the end.
      for (;;) {
        const page = await call.services.store.listModels({ algorithmId: call.query.algorithm_id ?? null, targetId: target.id }, { first: MAX_PAGE, after });
        out.push(...page.nodes);
        if (!page.hasNextPage || !page.endCursor) break;
        after = page.endCursor;
      }
      return reply(HModelListWrapper, { data: await restModels(out, call) });
    },
  }),
  defineOperation({
    operationId: 'deleteModels',
    method: 'delete',
    path: '/api/v1/models/',
    tag: 'models',
    summary: 'Delete Models',
    description: 'Delete models by id (list), with their assessments; a model in training is stopped first',
    scope: 'all',
    query: z.object({ model_ids: queryList().optional() }),
    renames: { ids: 'model_ids' },
    responses: responses('200', 'OK', jsonContent(ModelIdsQueryWrapper)),
    handler: async (call) => {
      const models = await modelsOf(call, idsOf(call.query.model_ids, 'model_ids'), 'model_ids');
      const deleted = await call.services.models.delete(models.map((m) => m.id));
      return reply(ModelIdsQueryWrapper, { data: { model_ids: deleted } });
    },
  }),
  defineOperation({
    operationId: 'getModelById',
    method: 'get',
    path: '/api/v1/models/{model_id}',
    tag: 'models',
    summary: 'Get Model by ID',
    description: 'Get a single model by ID ("active": the default target\'s active model)',
    scope: 'read',
    params: modelId,
    responses: responses('200', 'OK', jsonContent(HModelWrapper), { unprocessable: false }),
    handler: async (call) => reply(HModelWrapper, { data: await restModel(await modelByRestRef(call, call.params.model_id), call) }),
  }),
  defineOperation({
    operationId: 'activateModel',
    method: 'post',
    path: '/api/v1/models/{model_id}/activate',
    tag: 'models',
    summary: 'Activate a model',
    description: 'Makes a READY model its target\'s active one: the model that "active" names (409 for a model that is not READY).',
    extension: 'The original has no way to choose the active model over REST; GraphQL activateModel does the same.',
    scope: 'all',
    params: modelId,
    responses: responses('200', 'OK', jsonContent(HModelWrapper), { unprocessable: false }),
    handler: async (call) => {
      const model = await modelByRestRef(call, call.params.model_id);
      const activated = await call.services.models.activate(model.id, actorOf(call.principal));
      call.loaders.model.clearAll();
      return reply(HModelWrapper, { data: await restModel(activated, call) });
    },
  }),
  defineOperation({
    operationId: 'exportModelsWithId',
    method: 'post',
    path: '/api/v1/models/export',
    tag: 'models',
    summary: 'Export models',
    description:
      'Export models given the Id: a zip with one folder per model holding manifest.json and model.onnx (docs/model-archive.md), importable by POST /api/v1/models/import here or on another server.',
    scope: 'all',
    body: { json: ModelIdsQuery, required: true },
    renames: { ids: 'model_ids' },
    responses: responses('200', 'Zip file containing the model/s', { 'application/zip': { schema: z.string().meta({ format: 'binary' }) } }),
    handler: async (call) => {
      const models = await modelsOf(call, idsOf(call.body.model_ids, 'model_ids'), 'model_ids');
      const file = await call.services.models.exportArchive(models.map((m) => m.id));
      return download(call.links.blob(file.key, file.contentType, file.filename), call.request, call.services);
    },
  }),
  defineOperation({
    operationId: 'importModels',
    method: 'post',
    path: '/api/v1/models/import',
    tag: 'models',
    summary: 'Import models',
    description: 'Import models from the zip file (all or nothing); 422 says what is wrong with the archive.',
    scope: 'all',
    body: { multipart: ImportModels, required: true, maxBytes: MAX_IMPORT_BYTES },
    renames: { file: 'models' },
    responses: responses('200', 'OK', jsonContent(HModelListWrapper)),
    handler: async (call) => {
      const { models: file, target_id } = call.body;
      if (!file) throw unprocessable('models', 'models is required: the model archive (a zip) as a file part');
      const target = target_id !== undefined ? await targetByRestId(call, target_id) : null;
      const imported = await call.services.models.importArchive(file, target?.id ?? null);
      return reply(HModelListWrapper, { data: await restModels(imported, call) });
    },
  }),
  defineOperation({
    operationId: 'predictItems',
    method: 'post',
    path: '/api/v1/models/{model_id}/predict',
    tag: 'models',
    summary: 'Predict Items',
    description:
      'Predict items in the background. Each result is stored on its item (GET /api/v1/items/{item_id}) as soon as it is made, and pushed to webhooks and MQTT (docs/integration.md).',
    scope: 'all',
    params: modelId,
    body: { json: Predict, required: true },
    renames: { itemIds: 'item_ids', modelId: 'model_id' },
    responses: responses('200', 'OK', jsonContent(PredictItemsResponseWrapper)),
    handler: async (call) => {
      const model = await modelByRestRef(call, call.params.model_id);
      const job = await call.services.predictions.request(model.id, idsOf(call.body.item_ids, 'item_ids'));
      return reply(PredictItemsResponseWrapper, { data: { item_ids: job.itemIds, model_version: job.modelVersion, model_id: job.modelId, job_id: job.id } });
    },
  }),
];
