import { builder } from '../schema/builder.ts';
import { Model } from '../schema/models.ts';
import { Target } from '../schema/targets.ts';
import type { ModelActivationRecord } from '../runtime/store/types.ts';

const ModelActivation = builder.objectRef<ModelActivationRecord>('ModelActivation');

builder.objectType(ModelActivation, {
  description: "One activation of a model on its target: the target's activation history (rollback: activate an earlier model again)",
  fields: (t) => ({
    id: t.exposeID('id'),
    at: t.field({ type: 'DateTime', resolve: (a) => a.at }),
    model: t.field({
      type: Model,
      description: 'The model activated (a deleted model takes its lines along)',
      resolve: (a, _args, ctx) => ctx.loaders.model.load(a.modelId),
    }),
    previousModel: t.field({
      type: Model,
      nullable: true,
      description: 'The model it replaced; null when none was active or it has been deleted since',
      resolve: (a, _args, ctx) => (a.previousModelId ? ctx.loaders.model.load(a.previousModelId).catch(() => null) : null),
    }),
    by: t.string({ nullable: true, description: "Who activated it: a person's name or an API client's id", resolve: (a) => a.actor }),
  }),
});

builder.objectFields(Target, (t) => ({
  activations: t.field({
    type: [ModelActivation],
    description: 'The activation history of the target, newest first (1..100, default 20)',
    args: { first: t.arg.int({ defaultValue: 20 }) },
    resolve: (target, args, ctx) => ctx.services.models.activationHistory(target.id, args.first ?? 20),
  }),
}));
