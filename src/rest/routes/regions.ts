import { MAX_REGION_POINTS, MAX_REGIONS, MAX_SENSITIVITY, MIN_SENSITIVITY } from '../../runtime/images/regions.ts';
import type { RegionsOf } from '../../runtime/targets/targets.ts';
import { EXTENSION, int32, z } from '../contract/zod.ts';
import { defineOperation, jsonContent, reply, responses, type RestCall } from '../operation.ts';
import { modelByRestRef, targetByRestId } from '../resolve.ts';

// Regions of interest over REST (docs/regions.md): the same engine calls as GraphQL's setRegions,
// resetModelRegions, Target.regions and Model.regions. Points are [x, y] pairs in 0..1.

// An array of two rather than a tuple: 3.1's prefixItems is lost on many client generators and validators.
const Point = z.array(z.number()).length(2).meta({ description: "[x, y]: fractions of the picture's width (from the left) and height (from the top), 0..1" });

const RegionIn = z
  .object({
    mode: z.enum(['INCLUDE', 'EXCLUDE']),
    points: z.array(Point).meta({ description: `3..${MAX_REGION_POINTS} vertices in order; the polygon closes itself` }),
    sensitivity: z
      .number()
      .nullable()
      .optional()
      .meta({ description: `${MIN_SENSITIVITY}..${MAX_SENSITIVITY}, default 1; INCLUDE regions only` }),
    label: z.string().nullable().optional(),
  })
  .meta({ id: 'RegionInput', [EXTENSION]: true, description: 'A region of interest to set' });

const Region = z
  .object({ mode: z.enum(['INCLUDE', 'EXCLUDE']), points: z.array(Point), sensitivity: z.number(), label: z.string().nullable() })
  .meta({ id: 'Region', [EXTENSION]: true, description: 'A region of interest (docs/regions.md)' });

const RegionsBody = z
  .object({ regions: z.array(RegionIn).meta({ description: `At most ${MAX_REGIONS}; empty: the whole picture is judged` }) })
  .meta({ id: 'RegionsBody', [EXTENSION]: true });

const RegionsWrapper = z
  .object({
    data: z.object({
      target_id: int32().meta({ description: "The target (its target_id), or the model's target" }),
      model_id: z.string().nullable().meta({ description: "The model, when the regions are a model's" }),
      regions: z.array(Region).meta({ description: "What the owner judges with: a model's own regions, else its target's" }),
      inherited: z.boolean().meta({ description: "True when the model has none of its own and judges with its target's" }),
    }),
  })
  .meta({ id: 'RegionsWrapper', [EXTENSION]: true });

const targetId = z.object({ target_id: z.string().meta({ description: 'The target_id (integer) of an inspection target' }) });
const modelId = z.object({ model_id: z.string().meta({ description: 'The model id, set to "active" to use current active model' }) });

const answer = (r: RegionsOf) =>
  reply(RegionsWrapper, {
    data: { target_id: r.target.key, model_id: r.model?.id ?? null, regions: r.regions.map((x) => ({ ...x })), inherited: r.inherited },
  });

const WHY = 'Regions of interest are not in the original API; GraphQL setRegions / Target.regions / Model.regions do the same.';

type Body = z.output<typeof RegionsBody>;
const targetOf = async (call: RestCall<{ target_id: string }>) => ({ targetId: (await targetByRestId(call, call.params.target_id)).id });
const modelOf = async (call: RestCall<{ model_id: string }>) => ({ modelId: (await modelByRestRef(call, call.params.model_id)).id });

export const regionOperations = [
  defineOperation({
    operationId: 'getTargetRegions',
    method: 'get',
    path: '/api/v1/targets/{target_id}/regions',
    tag: 'targets',
    summary: 'Regions of interest of a target',
    description: 'The include/exclude polygons of the target, which its models judge with unless they have their own.',
    extension: WHY,
    scope: 'read',
    params: targetId,
    responses: responses('200', 'OK', jsonContent(RegionsWrapper), { unprocessable: false }),
    handler: async (call) => answer(await call.services.targets.regionsOf(await targetOf(call))),
  }),
  defineOperation({
    operationId: 'setTargetRegions',
    method: 'post',
    path: '/api/v1/targets/{target_id}/regions',
    tag: 'targets',
    summary: 'Set the regions of interest of a target',
    description: "Replaces the target's regions (422 naming the region that is wrong). Applies to predictions from now on.",
    extension: WHY,
    scope: 'all',
    params: targetId,
    body: { json: RegionsBody, required: true },
    responses: responses('200', 'OK', jsonContent(RegionsWrapper)),
    handler: async (call) => answer(await call.services.targets.setRegions(await targetOf(call), (call.body as Body).regions)),
  }),
  defineOperation({
    operationId: 'getModelRegions',
    method: 'get',
    path: '/api/v1/models/{model_id}/regions',
    tag: 'models',
    summary: 'Regions of interest a model judges with',
    description: "The model's own regions, else its target's (`inherited`).",
    extension: WHY,
    scope: 'read',
    params: modelId,
    responses: responses('200', 'OK', jsonContent(RegionsWrapper), { unprocessable: false }),
    handler: async (call) => answer(await call.services.targets.regionsOf(await modelOf(call))),
  }),
  defineOperation({
    operationId: 'setModelRegions',
    method: 'post',
    path: '/api/v1/models/{model_id}/regions',
    tag: 'models',
    summary: "Set a model's own regions of interest",
    description: "Replaces the model's own regions, which override its target's; an empty list judges the whole picture.",
    extension: WHY,
    scope: 'all',
    params: modelId,
    body: { json: RegionsBody, required: true },
    responses: responses('200', 'OK', jsonContent(RegionsWrapper)),
    handler: async (call) => answer(await call.services.targets.setRegions(await modelOf(call), (call.body as Body).regions)),
  }),
  defineOperation({
    operationId: 'resetModelRegions',
    method: 'delete',
    path: '/api/v1/models/{model_id}/regions',
    tag: 'models',
    summary: "Drop a model's own regions of interest",
    description: "The model judges with its target's regions again.",
    extension: WHY,
    scope: 'all',
    params: modelId,
    responses: responses('200', 'OK', jsonContent(RegionsWrapper), { unprocessable: false }),
    handler: async (call) => answer(await call.services.targets.setRegions(await modelOf(call), null)),
  }),
];
