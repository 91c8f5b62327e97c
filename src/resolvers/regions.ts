import { builder } from '../schema/builder.ts';
import { Model } from '../schema/models.ts';
import { MAX_REGIONS } from '../runtime/images/regions.ts';
import { RegionInput, RegionType, SetRegionsPayload } from '../schema/regions.ts';
import { Target } from '../schema/targets.ts';
import { effectiveRegions } from '../runtime/store/lookup.ts';
import type { Context } from '../context.ts';
import type { RegionsOf } from '../runtime/targets/targets.ts';

/** `[{ x, y }]` as the engine takes points: `[x, y]` pairs. */
const asPairs = (regions: readonly { mode: string; points: readonly { x: number; y: number }[]; sensitivity?: number | null; label?: string | null }[]) =>
  regions.map((r) => ({ ...r, points: r.points.map((p) => [p.x, p.y] as const) }));

builder.objectType(SetRegionsPayload, {
  description: 'Where regions were set and what the owner judges with now',
  fields: (t) => ({
    target: t.field({ type: Target, resolve: (p) => p.target }),
    model: t.field({ type: Model, nullable: true, resolve: (p) => p.model }),
    regions: t.field({ type: [RegionType], description: "What the owner judges with (a model's own, else its target's)", resolve: (p) => p.regions }),
    inherited: t.exposeBoolean('inherited', { description: "True when the model has no regions of its own and judges with its target's" }),
  }),
});

builder.objectFields(Target, (t) => ({
  regions: t.field({
    type: [RegionType],
    description: 'Regions of interest of the target; its models judge with them unless they have their own (docs/regions.md)',
    resolve: async (target, _args, ctx) => (await ctx.loaders.regionSet.load(target.id))?.regions ?? [],
  }),
}));

/** The model's own set and its target's, batched with every other model of the request. */
const modelRegions = async (model: { id: string; targetId: string }, ctx: Context) => {
  const [own, target] = await Promise.all([ctx.loaders.regionSet.load(model.id), ctx.loaders.regionSet.load(model.targetId)]);
  return effectiveRegions(
    [own, target].filter((s) => s !== null),
    model,
  );
};

builder.objectFields(Model, (t) => ({
  regions: t.field({
    type: [RegionType],
    description: "The regions the model judges with: its own when it has any set, else its target's (docs/regions.md)",
    resolve: async (model, _args, ctx) => (await modelRegions(model, ctx)).regions,
  }),
  regionsInherited: t.boolean({
    description: "True when the model has no regions of its own and judges with its target's",
    resolve: async (model, _args, ctx) => (await modelRegions(model, ctx)).source === 'target',
  }),
}));

const payload = (ctx: Context, answer: RegionsOf) => {
  if (answer.model) ctx.loaders.model.clear(answer.model.id).prime(answer.model.id, answer.model);
  return answer;
};

builder.mutationFields((t) => ({
  setRegions: t.field({
    type: SetRegionsPayload,
    // the engineer's work (scope train), as training and thresholds are
    skipTypeScopes: true,
    authScopes: { train: true },
    description: `Replaces the regions of interest of a target or of a model (give one of targetId, modelId; "active" accepted), at most ${MAX_REGIONS}. A model's regions override its target's; an empty list judges the whole picture. Applies to predictions from now on`,
    args: {
      targetId: t.arg.id(),
      modelId: t.arg.id(),
      regions: t.arg({ type: [RegionInput], required: true }),
    },
    resolve: async (_root, args, ctx) =>
      payload(ctx, await ctx.services.targets.setRegions({ targetId: args.targetId, modelId: args.modelId }, asPairs(args.regions))),
  }),
  resetModelRegions: t.field({
    type: SetRegionsPayload,
    skipTypeScopes: true,
    authScopes: { train: true },
    description: "Drops the model's own regions: it judges with its target's again",
    args: { modelId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => payload(ctx, await ctx.services.targets.setRegions({ modelId: args.modelId }, null)),
  }),
}));
