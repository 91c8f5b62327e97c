import { AlgorithmWithParameterListWrapper, AlgorithmWithParameterWrapper, HModelWrapper, TrainRequest } from '../contract/schemas.ts';
import { z } from '../contract/zod.ts';
import { RestFailure } from '../http.ts';
import { defineOperation, jsonContent, reply, responses } from '../operation.ts';
import { algorithmById, defaultTarget, targetByRestId } from '../resolve.ts';
import { restAlgorithm, restAlgorithms, restModel } from '../shapes.ts';

export const algorithmOperations = [
  defineOperation({
    operationId: 'getAlgorithms',
    method: 'get',
    path: '/api/v1/algorithms/',
    tag: 'algorithms',
    summary: 'Get List of Algorithms',
    description: 'Returns list of available algorithms including parameters that can be used to create a model',
    scope: 'read',
    responses: responses('200', 'OK', jsonContent(AlgorithmWithParameterListWrapper), { unprocessable: false }),
    handler: async (call) => reply(AlgorithmWithParameterListWrapper, { data: await restAlgorithms(await call.services.store.listAlgorithms(), call) }),
  }),
  defineOperation({
    operationId: 'getAlgorithmById',
    method: 'get',
    path: '/api/v1/algorithms/{algorithm_id}',
    tag: 'algorithms',
    summary: 'Get Algorithm by ID',
    description: 'Get a single algorithm by ID',
    scope: 'read',
    params: z.object({ algorithm_id: z.string() }),
    responses: responses('200', 'OK', jsonContent(AlgorithmWithParameterWrapper), { unprocessable: false }),
    handler: async (call) => {
      const algorithm = await algorithmById(call, call.params.algorithm_id);
      return reply(AlgorithmWithParameterWrapper, { data: restAlgorithm(algorithm, await call.loaders.parametersByAlgorithm.load(algorithm.id)) });
    },
  }),
  defineOperation({
    operationId: 'train',
    method: 'post',
    path: '/api/v1/algorithms/{algorithm_id}/train',
    tag: 'algorithms',
    summary: 'Train',
    description:
      'Train a model. Answers at once with the model QUEUED (or TRAINING); GET /api/v1/models/{model_id} shows its progress until READY. Without item_ids, every training item of the target is used (NG-tagged ones pick the threshold and the stats).',
    scope: 'all',
    params: z.object({ algorithm_id: z.string() }),
    body: { json: TrainRequest, required: true },
    renames: { itemIds: 'item_ids', overrideParams: 'override_params' },
    responses: responses('200', 'OK', jsonContent(HModelWrapper)),
    handler: async (call) => {
      const { body } = call;
      const algorithm = await algorithmById(call, call.params.algorithm_id);
      const target = body.target_id !== undefined ? await targetByRestId(call, body.target_id) : await defaultTarget(call);
      const params = await call.loaders.parametersByAlgorithm.load(algorithm.id);
      const overrideParams = (body.override_params ?? []).map((o, i) => {
        const key = `override_params.${i}`;
        if (o.value === undefined)
          throw new RestFailure(422, `${key}.value is required`, {
            code: 'BAD_USER_INPUT',
            messages: [{ key: `${key}.value`, errors: [`${key}.value is required`] }],
          });
        if (o.algorithm_parameter_id !== undefined) {
          const param = params.find((p) => p.key === o.algorithm_parameter_id);
          if (!param) {
            const detail = `algorithm "${algorithm.id}" has no parameter with algorithm_parameter_id ${o.algorithm_parameter_id}`;
            throw new RestFailure(422, detail, { code: 'BAD_USER_INPUT', messages: [{ key: `${key}.algorithm_parameter_id`, errors: [detail] }] });
          }
          return { parameterId: param.id, value: o.value };
        }
        if (o.name !== undefined) return { name: o.name, value: o.value };
        const detail = `${key} needs algorithm_parameter_id (or name)`;
        throw new RestFailure(422, detail, { code: 'BAD_USER_INPUT', messages: [{ key: `${key}.algorithm_parameter_id`, errors: [detail] }] });
      });
      const model = await call.services.training.train({
        algorithmId: algorithm.id,
        name: body.name ?? null,
        itemIds: body.item_ids ?? null,
        overrideParams,
        targetId: target.id,
      });
      return reply(HModelWrapper, { data: await restModel(model, call) });
    },
  }),
];
