import { AppError, ErrorCode } from '../errors.ts';
import { builder } from '../schema/builder.ts';
import { Model, OverrideParamInput } from '../schema/models.ts';
import { loadModel, targetOrDefault } from './lookup.ts';

builder.mutationFields((t) => ({
  trainModel: t.field({
    type: Model,
    // The engineer's work (scope train), not every scope.
    skipTypeScopes: true,
    authScopes: { train: true },
    description:
      "Starts training a model from the target's training items (default: all of them; NG-labelled ones set the threshold and the stats). Answers at once with the model QUEUED; follow it with the trainingProgress subscription.",
    args: {
      algorithmId: t.arg.id({
        description:
          'Default: "auto", the automatic choice (trains the algorithms that fit the pictures and keeps the one that separates held-out OK pictures from pseudo-defects and NG pictures best; the model\'s statusText and stats say which and why)',
      }),
      name: t.arg.string(),
      itemIds: t.arg.idList(),
      overrideParams: t.arg({ type: [OverrideParamInput] }),
      targetId: t.arg.id({ description: 'Default: the default target' }),
    },
    resolve: async (_root, args, ctx) => {
      const { training } = ctx.services;
      if (!training) throw new AppError(ErrorCode.UNAVAILABLE, 'training is not available on this server');
      const target = await targetOrDefault(ctx, args.targetId);
      for (const o of args.overrideParams ?? []) {
        if (!o.parameterId && !o.name) {
          throw new AppError(ErrorCode.BAD_USER_INPUT, 'each override needs parameterId or name', { argument: 'overrideParams' });
        }
      }
      const model = await training.train({
        algorithmId: args.algorithmId ?? 'auto',
        name: args.name ?? null,
        itemIds: args.itemIds ?? null,
        overrideParams: args.overrideParams ?? null,
        targetId: target.id,
      });
      ctx.loaders.model.prime(model.id, model);
      return model;
    },
  }),
  cancelTraining: t.field({
    type: Model,
    // The engineer's work (scope train), not every scope.
    skipTypeScopes: true,
    authScopes: { train: true },
    description: 'Stops a queued or running training; the model ends CANCELLED',
    args: { modelId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const { training } = ctx.services;
      if (!training) throw new AppError(ErrorCode.UNAVAILABLE, 'training is not available on this server');
      const model = await loadModel(ctx, args.modelId);
      const cancelled = await training.cancel(model.id);
      ctx.loaders.model.clear(model.id).prime(model.id, cancelled);
      return cancelled;
    },
  }),
}));
