import { RestFailure, data } from '../http.ts';
import { download } from '../download.ts';
import { queryList, type Route } from '../router.ts';
import { TARGET_FIELDS, restTarget, type GTarget } from '../shapes.ts';
import { unprocessable } from '../http.ts';

export const targetRoutes: Route[] = [
  {
    method: 'POST',
    path: '/api/v1/targets/model/results',
    // getModelResults: the CSV of the models' assessments.
    handler: async ({ gql, url, request, services }) => {
      const modelIds = queryList(url, 'model_ids');
      if (modelIds.length === 0) throw unprocessable('model_ids', 'model_ids is required (one or more model ids)');
      const { exportModelResults } = await gql<{ exportModelResults: { url: string } }>(
        `mutation ($ids: [ID!]!) { exportModelResults(modelIds: $ids) { url } }`,
        { ids: modelIds },
      );
      return download(exportModelResults.url, request, services);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/targets',
    handler: async ({ gql }) => {
      const { targets } = await gql<{ targets: GTarget[] }>(`{ targets { ${TARGET_FIELDS} } }`);
      return data(targets.map(restTarget));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/targets/:targetId',
    handler: async ({ gql, params }) => {
      const { target } = await gql<{ target: GTarget | null }>(`query ($id: ID!) { target(id: $id) { ${TARGET_FIELDS} } }`, {
        id: params.targetId,
      });
      if (!target) throw new RestFailure(404, `Target "${params.targetId}" does not exist`, { code: 'NOT_FOUND' });
      return data(restTarget(target));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/targets/:targetId',
    // setInspectionTargetById: makes it the default target.
    handler: async ({ gql, params }) => {
      const { setDefaultTarget } = await gql<{ setDefaultTarget: GTarget }>(
        `mutation ($id: ID!) { setDefaultTarget(id: $id) { ${TARGET_FIELDS} } }`,
        { id: params.targetId },
      );
      return data(restTarget(setDefaultTarget));
    },
  },
];
