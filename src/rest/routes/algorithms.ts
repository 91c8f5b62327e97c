import { RestFailure, data, unprocessable } from '../http.ts';
import { idList, jsonBody, type Route } from '../router.ts';
import { ALGORITHM_FIELDS, MODEL_FIELDS, restAlgorithm, restModel, type GAlgorithm, type GModel } from '../shapes.ts';

/** `override_params: [{ algorithm_parameter_id, value }]`; a parameter `name` is accepted instead of the id. */
function overrideParams(value: unknown): { parameterId?: string; name?: string; value: string }[] | null {
  if (value === undefined || value === null) return null;
  const fail = () => unprocessable('override_params', 'override_params must be a list of { algorithm_parameter_id, value }');
  if (!Array.isArray(value)) throw fail();
  return value.map((p: unknown) => {
    if (!p || typeof p !== 'object') throw fail();
    const { algorithm_parameter_id: id, name, value: v } = p as Record<string, unknown>;
    if (v === undefined || v === null || typeof v === 'object') throw fail();
    if (typeof id === 'string' || typeof id === 'number') return { parameterId: String(id), value: String(v) };
    if (typeof name === 'string') return { name, value: String(v) };
    throw fail();
  });
}

export const algorithmRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/v1/algorithms',
    handler: async ({ gql }) => {
      const { algorithms } = await gql<{ algorithms: GAlgorithm[] }>(`{ algorithms { ${ALGORITHM_FIELDS} } }`);
      return data(algorithms.map(restAlgorithm));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/algorithms/:algorithmId',
    handler: async ({ gql, params }) => {
      const { algorithm } = await gql<{ algorithm: GAlgorithm | null }>(
        `query ($id: ID!) { algorithm(id: $id) { ${ALGORITHM_FIELDS} } }`,
        { id: params.algorithmId },
      );
      if (!algorithm) throw new RestFailure(404, `Algorithm "${params.algorithmId}" does not exist`, { code: 'NOT_FOUND' });
      return data(restAlgorithm(algorithm));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/algorithms/:algorithmId/train',
    // Starts training and answers at once with the QUEUED/TRAINING model (poll GET /models/{id}).
    handler: async ({ gql, params, request }) => {
      const body = await jsonBody(request);
      if (body.name !== undefined && body.name !== null && typeof body.name !== 'string') throw unprocessable('name', 'name must be a string');
      if (body.target_id !== undefined && body.target_id !== null && typeof body.target_id !== 'string' && typeof body.target_id !== 'number') {
        throw unprocessable('target_id', 'target_id must be an id');
      }
      const variables = {
        algorithmId: params.algorithmId,
        name: body.name ?? null,
        itemIds: body.item_ids === undefined || body.item_ids === null ? null : idList(body.item_ids, 'item_ids'),
        overrideParams: overrideParams(body.override_params),
        targetId: body.target_id === undefined || body.target_id === null ? null : String(body.target_id),
      };
      const { trainModel } = await gql<{ trainModel: GModel }>(
        `mutation ($algorithmId: ID!, $name: String, $itemIds: [ID!], $overrideParams: [OverrideParamInput!], $targetId: ID) {
          trainModel(algorithmId: $algorithmId, name: $name, itemIds: $itemIds, overrideParams: $overrideParams, targetId: $targetId) { ${MODEL_FIELDS} }
        }`,
        variables,
      );
      return data(restModel(trainModel));
    },
  },
];
