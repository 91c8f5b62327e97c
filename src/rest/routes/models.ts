import { MAX_PAGE } from '../../schema/connection.ts';
import { download } from '../download.ts';
import { RestFailure, data, unprocessable } from '../http.ts';
import { formBody, idList, isFile, jsonBody, queryList, type Route } from '../router.ts';
import { MODEL_FIELDS, restModel, type GModel } from '../shapes.ts';

interface ModelPage {
  models: { edges: { node: GModel }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/** Largest model archive accepted by the REST import (the GraphQL upload limits apply again inside). */
const MAX_IMPORT_BYTES = 512 * 1024 * 1024;

export const modelRoutes: Route[] = [
  {
    method: 'GET',
    path: '/api/v1/models',
    // The REST list is unpaged: walk the connection.
    handler: async ({ gql, url }) => {
      const algorithmId = url.searchParams.get('algorithm_id') || null;
      const out: GModel[] = [];
      let after: string | null = null;
      for (;;) {
        const page: ModelPage = await gql<ModelPage>(
          `query ($algorithmId: ID, $first: Int, $after: String) {
            models(algorithmId: $algorithmId, first: $first, after: $after) {
              edges { node { ${MODEL_FIELDS} } } pageInfo { hasNextPage endCursor }
            }
          }`,
          { algorithmId, first: MAX_PAGE, after },
        );
        out.push(...page.models.edges.map((e) => e.node));
        if (!page.models.pageInfo.hasNextPage || !page.models.pageInfo.endCursor) break;
        after = page.models.pageInfo.endCursor;
      }
      return data(out.map(restModel));
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/models',
    handler: async ({ gql, url }) => {
      const ids = queryList(url, 'model_ids');
      if (ids.length === 0) throw unprocessable('model_ids', 'model_ids is required (one or more model ids)');
      const { deleteModels } = await gql<{ deleteModels: string[] }>(`mutation ($ids: [ID!]!) { deleteModels(ids: $ids) }`, { ids });
      return data({ model_ids: deleteModels });
    },
  },
  {
    method: 'POST',
    path: '/api/v1/models/export',
    handler: async ({ gql, request, services, url }) => {
      const body = await jsonBody(request);
      const ids = body.model_ids !== undefined ? idList(body.model_ids, 'model_ids') : queryList(url, 'model_ids');
      if (ids.length === 0) throw unprocessable('model_ids', 'model_ids is required (one or more model ids)');
      const { exportModels } = await gql<{ exportModels: { url: string } }>(
        `mutation ($ids: [ID!]!) { exportModels(ids: $ids) { url } }`,
        { ids },
      );
      return download(exportModels.url, request, services);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/models/import',
    handler: async ({ gql, request }) => {
      const form = await formBody(request, MAX_IMPORT_BYTES);
      const file = form.get('models');
      if (!isFile(file)) throw unprocessable('models', 'models must be the model archive (a zip) sent as a file part');
      const { importModels } = await gql<{ importModels: GModel[] }>(
        `mutation ($file: File!) { importModels(file: $file) { ${MODEL_FIELDS} } }`,
        {},
        [{ variable: 'file', file }],
      );
      return data(importModels.map(restModel));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/models/:modelId',
    handler: async ({ gql, params }) => {
      const { model } = await gql<{ model: GModel | null }>(`query ($id: ID!) { model(id: $id) { ${MODEL_FIELDS} } }`, {
        id: params.modelId,
      });
      if (!model) throw new RestFailure(404, `Model "${params.modelId}" does not exist`, { code: 'NOT_FOUND' });
      return data(restModel(model));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/models/:modelId/predict',
    // Background prediction, as in REST: results arrive later (GET /items, or the GraphQL subscription).
    handler: async ({ gql, params, request }) => {
      const body = await jsonBody(request);
      const itemIds = idList(body.item_ids ?? [], 'item_ids');
      if (itemIds.length === 0) throw unprocessable('item_ids', 'item_ids is required (one or more item ids)');
      const { requestPrediction: job } = await gql<{ requestPrediction: { id: string; modelId: string; itemIds: string[]; modelVersion: string } }>(
        `mutation ($modelId: ID!, $itemIds: [ID!]!) { requestPrediction(modelId: $modelId, itemIds: $itemIds) { id modelId itemIds modelVersion } }`,
        { modelId: params.modelId, itemIds },
      );
      return data({ item_ids: job.itemIds, model_id: job.modelId, model_version: job.modelVersion, job_id: job.id });
    },
  },
];
