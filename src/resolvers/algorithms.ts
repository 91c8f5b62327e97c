import { Algorithm, AlgorithmParameter } from '../schema/algorithms.ts';
import { builder } from '../schema/builder.ts';

builder.node(Algorithm, {
  description: 'A training method with its parameters and their defaults',
  id: { resolve: (algorithm) => algorithm.id },
  loadManyWithoutCache: (ids, ctx) => ctx.loaders.algorithm.loadMany(ids).then((r) => r.map((a) => (a instanceof Error ? null : a))),
  fields: (t) => ({
    name: t.exposeString('name'),
    version: t.exposeString('version', { nullable: true }),
    type: t.exposeString('type', { nullable: true }),
    attribute: t.exposeString('attribute', { nullable: true }),
    description: t.exposeString('description', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (algorithm) => algorithm.createdAt }),
    parameters: t.field({
      type: [AlgorithmParameter],
      resolve: (algorithm, _args, ctx) => ctx.loaders.parametersByAlgorithm.load(algorithm.id),
    }),
  }),
});

builder.objectType(AlgorithmParameter, {
  fields: (t) => ({
    id: t.exposeID('id'),
    restId: t.int({
      nullable: true,
      description: "The integer id the REST API uses (algorithm_parameter_id); null for an upstream's parameter",
      resolve: (p) => (Number.isInteger(p.key) ? p.key : null),
    }),
    name: t.exposeString('name'),
    displayName: t.exposeString('displayName', { nullable: true }),
    dataType: t.exposeString('dataType', { description: 'int, float, bool, string or int2 (a pair "a,b")' }),
    value: t.exposeString('value', { nullable: true, description: 'The default value' }),
    rangeLower: t.exposeString('rangeLower', { nullable: true }),
    rangeUpper: t.exposeString('rangeUpper', { nullable: true }),
    modelParameter: t.exposeBoolean('modelParameter', {
      nullable: true,
      description: 'True when it may be changed on a trained model (updatePredictParameters)',
    }),
  }),
});

builder.queryFields((t) => ({
  algorithms: t.field({
    type: [Algorithm],
    resolve: async (_root, _args, ctx) => {
      const algorithms = await ctx.services.store.listAlgorithms();
      for (const a of algorithms) ctx.loaders.algorithm.prime(a.id, a);
      return algorithms;
    },
  }),
  algorithm: t.field({
    type: Algorithm,
    nullable: true,
    description: 'An unknown id is a NOT_FOUND error naming it (with null data)',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.loaders.algorithm.load(id),
  }),
}));
