import { InspectionTargetListWrapper, InspectionTargetWrapper } from '../contract/schemas.ts';
import { queryList, z } from '../contract/zod.ts';
import { download } from '../download.ts';
import { unprocessable } from '../http.ts';
import { defineOperation, jsonContent, reply, responses } from '../operation.ts';
import { modelByRestRef, targetByRestId } from '../resolve.ts';
import { restTarget } from '../shapes.ts';

const targetId = z.object({ target_id: z.string().meta({ description: 'The target_id (integer) of an inspection target' }) });

export const targetOperations = [
  defineOperation({
    operationId: 'getInspectionTargets',
    method: 'get',
    path: '/api/v1/targets/',
    tag: 'targets',
    summary: 'Get List of Inpection Targets',
    description: 'Get all inspection targets created by user',
    scope: 'read',
    responses: responses('200', 'OK', jsonContent(InspectionTargetListWrapper), { unprocessable: false }),
    handler: async ({ services }) => reply(InspectionTargetListWrapper, { data: (await services.store.listTargets()).map(restTarget) }),
  }),
  defineOperation({
    operationId: 'getInspectionTargetById',
    method: 'get',
    path: '/api/v1/targets/{target_id}',
    tag: 'targets',
    summary: 'Get Inspection Target by ID',
    description: 'Get a single inspection target using the inspection target ID.',
    scope: 'read',
    params: targetId,
    responses: responses('200', 'OK', jsonContent(InspectionTargetWrapper), { unprocessable: false }),
    handler: async (call) => reply(InspectionTargetWrapper, { data: restTarget(await targetByRestId(call, call.params.target_id)) }),
  }),
  defineOperation({
    operationId: 'setInspectionTargetById',
    method: 'post',
    path: '/api/v1/targets/{target_id}',
    tag: 'targets',
    summary: 'Set Default Inspection Target by ID',
    description: 'Set the default inspection target using the inspection target ID.',
    scope: 'all',
    params: targetId,
    responses: responses('200', 'OK', jsonContent(InspectionTargetWrapper), { unprocessable: false }),
    handler: async (call) => {
      const target = await targetByRestId(call, call.params.target_id);
      return reply(InspectionTargetWrapper, { data: restTarget(await call.services.targets.setDefault(target.id)) });
    },
  }),
  defineOperation({
    operationId: 'getModelResults',
    method: 'post',
    path: '/api/v1/targets/model/results',
    tag: 'targets',
    summary: 'Results of models as CSV',
    description:
      'A CSV file (RFC 4180, UTF-8, CRLF) with one row per assessment of the models, newest first per model. Columns: model_id, model_name, model_version, assessment_id, item_id, item_name, result (GOOD or BAD, as in the JSON answers), score, threshold, detected_objects, detection_accuracy, label, boxes (`x_min y_min x_max y_max score` groups separated by `;`, pixels of the original picture), created_at. `model_ids` may be "active".',
    scope: 'all',
    query: z.object({ model_ids: queryList('Model ids ("active" allowed)').optional() }),
    renames: { modelIds: 'model_ids', ids: 'model_ids' },
    responses: responses('200', 'CSV file containing the model/s results', {
      'text/csv': {
        schema: z.string().meta({
          example:
            'model_id,model_name,model_version,assessment_id,item_id,item_name,result,score,threshold,detected_objects,detection_accuracy,label,boxes,created_at\r\n',
        }),
      },
    }),
    handler: async (call) => {
      const refs = [...new Set(call.query.model_ids ?? [])];
      if (refs.length === 0) throw unprocessable('model_ids', 'model_ids is required (one or more model ids)');
      const models = await Promise.all(refs.map((ref) => modelByRestRef(call, ref, 'model_ids')));
      const file = await call.services.models.exportResults(models.map((m) => m.id));
      return download(call.links.blob(file.key, file.contentType, file.filename), call.request, call.services);
    },
  }),
];
