import { actorOf } from '../runtime/auth/auth.ts';
import { Algorithm } from '../schema/algorithms.ts';
import { builder } from '../schema/builder.ts';
import { connectionFromPage, ModelConnection, pageOf } from '../schema/connection.ts';
import { sensitivityAt } from '../model-stats.ts';
import { DefectProbeKind, DefectSensitivity, Metric, Model, ModelStatsType, ModelStatus, PredictParametersType } from '../schema/models.ts';
import { Target } from '../schema/targets.ts';
import { distinctIds, loadModel } from './lookup.ts';

builder.node(Model, {
  description: 'A model trained (or imported) for a target with one algorithm',
  id: { resolve: (model) => model.id },
  loadManyWithoutCache: (ids, ctx) => ctx.loaders.model.loadMany(ids).then((r) => r.map((m) => (m instanceof Error ? null : m))),
  fields: (t) => ({
    name: t.exposeString('name'),
    version: t.exposeString('version'),
    status: t.field({ type: ModelStatus, resolve: (model) => model.status }),
    statusText: t.exposeString('statusText', { nullable: true }),
    stage: t.exposeString('stage', { nullable: true, description: 'The training stage running now' }),
    progress: t.exposeFloat('progress', { description: '0..1 while training, 1 when READY' }),
    active: t.exposeBoolean('active', { description: "The target's active model for predictions" }),
    algorithm: t.field({ type: Algorithm, resolve: (model, _args, ctx) => ctx.loaders.algorithm.load(model.algorithmId) }),
    target: t.field({ type: Target, resolve: (model, _args, ctx) => ctx.loaders.target.load(model.targetId) }),
    okImageCount: t.exposeInt('okImageCount'),
    ngImageCount: t.exposeInt('ngImageCount'),
    trainingTime: t.exposeFloat('trainingTime', { nullable: true, description: 'Seconds' }),
    stats: t.field({
      type: ModelStatsType,
      nullable: true,
      resolve: (model) => (model.stats ? { ...model.stats, threshold: model.predictParameters.threshold } : null),
    }),
    predictParameters: t.field({ type: PredictParametersType, resolve: (model) => model.predictParameters }),
    imageUrl: t.string({
      nullable: true,
      description: 'A representative picture (signed, expiring URL)',
      resolve: (model, _args, ctx) => (model.imageBlob ? ctx.links.blob(model.imageBlob, 'image/png') : null),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (model) => model.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (model) => model.updatedAt }),
  }),
});

builder.objectType(ModelStatsType, {
  fields: (t) => ({
    accuracy: t.exposeFloat('accuracy', { nullable: true }),
    precision: t.field({ type: Metric, resolve: (stats) => stats.precision }),
    recall: t.field({ type: Metric, resolve: (stats) => stats.recall }),
    method: t.exposeString('method', { nullable: true, description: 'How the figures were computed' }),
    sensitivity: t.field({
      type: [DefectSensitivity],
      nullable: true,
      description:
        "What the model catches on the training pictures: synthetic spots and scratches of graded size and contrast painted into held-out OK pictures (pictures its fold never learnt from), judged at the model's threshold or at `threshold` (to see what another one would catch before setting it). Null for models trained before it was measured.",
      args: { threshold: t.arg.float({ description: "Read the probes at this threshold instead of the model's" }) },
      resolve: (stats, args) => {
        const threshold = args.threshold ?? stats.threshold;
        return stats.sensitivity && threshold !== undefined ? sensitivityAt(stats.sensitivity, threshold) : null;
      },
    }),
  }),
});

builder.objectType(DefectSensitivity, {
  description: 'One kind, size and contrast of synthetic defect, and how many of its probes the model caught',
  fields: (t) => ({
    kind: t.field({ type: DefectProbeKind, resolve: (r) => r.kind }),
    size: t.exposeFloat('size', {
      description:
        "Spots: percent of the picture's area; scratches: length in percent of its longer side (of one tile where the model cuts camera-size pictures into tiles)",
    }),
    contrast: t.exposeFloat('contrast', {
      description: "How far the defect is from its surroundings, in multiples of the picture's own standard deviation of grey levels",
    }),
    tested: t.exposeInt('tested', { description: 'Probes painted and judged' }),
    caught: t.exposeInt('caught', {
      description: 'Probes the threshold catches: the anomaly map reaches it on the probe (a box would be drawn there; the picture is judged BAD)',
    }),
    rate: t.float({ description: 'caught / tested', resolve: (r) => (r.tested ? r.caught / r.tested : 0) }),
    scores: t.exposeFloatList('scores', {
      description:
        "Each probe's score: the highest value of the anomaly map on it (caught at or above the threshold), for reading them at any threshold without asking again",
    }),
  }),
});

builder.objectType(Metric, {
  fields: (t) => ({
    computed: t.exposeFloat('computed', { nullable: true, description: 'On held-out training data' }),
    projected: t.exposeFloat('projected', { nullable: true, description: 'Expected on new data' }),
  }),
});

builder.objectType(PredictParametersType, {
  fields: (t) => ({
    threshold: t.exposeFloat('threshold'),
    ignoreOuter: t.exposeInt('ignoreOuter', { description: 'Border in pixels excluded from detection' }),
    minDetectedArea: t.exposeInt('minDetectedArea', { description: 'Smallest region in pixels reported as a box' }),
  }),
});

builder.queryFields((t) => ({
  models: t.field({
    type: ModelConnection,
    args: {
      algorithmId: t.arg.id(),
      targetId: t.arg.id(),
      status: t.arg({ type: ModelStatus }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: async (_root, args, ctx) => {
      const page = pageOf(args);
      // An unknown filter id is a mistake worth naming, not an empty list.
      await Promise.all([
        args.targetId ? ctx.loaders.target.load(args.targetId) : null,
        args.algorithmId ? ctx.loaders.algorithm.load(args.algorithmId) : null,
      ]);
      return connectionFromPage(
        await ctx.services.store.listModels({ algorithmId: args.algorithmId ?? null, targetId: args.targetId ?? null, status: args.status ?? null }, page),
      );
    },
  }),
  model: t.field({
    type: Model,
    nullable: true,
    description:
      'id "active" is the default target\'s active model. An unknown id (or "active" with none) is a NOT_FOUND error naming it, with null data, as for target, item and algorithm',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => loadModel(ctx, id),
  }),
}));

builder.mutationFields((t) => ({
  activateModel: t.field({
    type: Model,
    // The engineer's work (scope train), not every scope.
    skipTypeScopes: true,
    authScopes: { train: true },
    description: 'Makes the model its target\'s active one (used where modelId is "active")',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const activated = await ctx.services.models.activate(id, actorOf(ctx.principal));
      ctx.loaders.model.clearAll();
      ctx.loaders.activeModel.clearAll();
      return activated;
    },
  }),
  deleteModels: t.field({
    type: ['ID'],
    // The engineer's work (scope train), not every scope.
    skipTypeScopes: true,
    authScopes: { train: true },
    description: 'Deletes models with their assessments (stopping any training first); returns the deleted ids',
    args: { ids: t.arg.idList({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const deleted = await ctx.services.models.delete(distinctIds(args.ids, 'ids'));
      for (const id of deleted) ctx.loaders.model.clear(id);
      ctx.loaders.activeModel.clearAll();
      return deleted;
    },
  }),
  updatePredictParameters: t.field({
    type: Model,
    // The engineer's work (scope train), not every scope.
    skipTypeScopes: true,
    authScopes: { train: true },
    description: 'Changes how a trained model judges, without retraining',
    args: {
      modelId: t.arg.id({ required: true }),
      threshold: t.arg.float(),
      ignoreOuter: t.arg.int(),
      minDetectedArea: t.arg.int(),
    },
    resolve: async (_root, args, ctx) => {
      const updated = await ctx.services.models.updatePredictParameters(args.modelId, args);
      ctx.loaders.model.clear(updated.id).prime(updated.id, updated);
      return updated;
    },
  }),
}));
