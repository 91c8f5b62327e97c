import type { Context } from '../context.ts';
import { AppError, ErrorCode, badInput } from '../errors.ts';
import { remoteApi, type UpstreamClient } from '../runtime/upstream/index.ts';
import type { RemoteAlgorithm } from '../runtime/upstream/remote.ts';
import type { AlgorithmParameterRecord, ModelStatus as ModelStatusValue } from '../runtime/store/types.ts';
import { AlgorithmParameter } from '../schema/algorithms.ts';
import { AssessmentResult } from '../schema/assessments.ts';
import { builder } from '../schema/builder.ts';
import { ItemType } from '../schema/items.ts';
import { ModelStatsType, ModelStatus, OverrideParamInput } from '../schema/models.ts';
import { PreprocessingType } from '../schema/targets.ts';
import {
  RemoteAlgorithmRef,
  RemoteAnnotationRef,
  RemoteAssessmentRef,
  RemoteImageRef,
  RemoteItemPageRef,
  RemoteItemRef,
  RemoteModelRef,
  RemotePredictionJob,
  RemoteTargetRef,
  RemoteUserAssessmentRef,
  Upstream,
  UpstreamStatus,
  type Remote,
  type UpstreamShape,
} from '../schema/upstream.ts';

// Other Spectro deployments, read through their REST API (runtime/upstream). Remote data fields
// are nullable: one unreachable upstream shows up as an UNAVAILABLE error at its own path and
// leaves the rest of the answer intact.

const shapes = new WeakMap<UpstreamClient, UpstreamShape>();
const shapeOf = (client: UpstreamClient): UpstreamShape => {
  let shape = shapes.get(client);
  if (!shape) shapes.set(client, (shape = { client, api: remoteApi(client) }));
  return shape;
};

function upstreamByName(ctx: Context, name: string): UpstreamShape {
  const client = ctx.services.upstreams.get(name);
  if (!client) throw new AppError(ErrorCode.NOT_FOUND, `no upstream named "${name}" is configured`, { argument: 'upstream' });
  return shapeOf(client);
}

/** One call per upstream and path within a request (a list of models asks for algorithms once). */
const memo = new WeakMap<Context, Map<string, Promise<unknown>>>();
function once<T>(ctx: Context, key: string, load: () => Promise<T>): Promise<T> {
  let calls = memo.get(ctx);
  if (!calls) memo.set(ctx, (calls = new Map()));
  let p = calls.get(key) as Promise<T> | undefined;
  if (!p) calls.set(key, (p = load()));
  return p;
}

const tag = <T extends object>(upstream: UpstreamShape, record: T): Remote<T> => ({ ...record, upstream });

const STATUSES = new Set<string>(['QUEUED', 'TRAINING', 'READY', 'FAILED', 'CANCELLED']);
const modelStatus = (raw: string | null): ModelStatusValue | null => {
  const upper = raw?.toUpperCase() ?? '';
  return STATUSES.has(upper) ? (upper as ModelStatusValue) : null;
};
const assessmentResult = (raw: string | null): 'GOOD' | 'BAD' | null => {
  const v = raw?.toLowerCase();
  if (v === 'good' || v === 'ok') return 'GOOD';
  if (v === 'bad' || v === 'ng') return 'BAD';
  return null;
};
/** Remote timestamps as dates, null when the upstream sent none or something unreadable. */
const date = (raw: string | null | undefined): Date | null => {
  if (!raw) return null;
  const d = new Date(raw);
  return Number.isNaN(d.getTime()) ? null : d;
};

const pageArg = (value: number | null | undefined, name: string, max: number) => {
  if (value === null || value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > max) throw badInput(`${name} must be between 1 and ${max}, got ${value}`, { argument: name });
  return value;
};

builder.objectType(Upstream, {
  description: 'Another Spectro deployment whose REST API this gateway reaches (UPSTREAMS)',
  fields: (t) => ({
    name: t.string({ resolve: (u) => u.client.name }),
    url: t.string({ description: 'Base URL (without credentials)', resolve: (u) => u.client.url }),
    healthy: t.boolean({
      description: 'Whether the upstream answers an authenticated call (checked at most every 5 s; fails fast while its circuit is open)',
      resolve: async (u) => (await u.client.probe()).healthy,
    }),
    error: t.string({
      nullable: true,
      description: 'Why the upstream is not healthy, in words; null when it is',
      resolve: async (u) => (await u.client.probe()).lastError,
    }),
    status: t.field({ type: UpstreamStatus, resolve: (u) => u.client.probe() }),
    targets: t.field({
      type: [RemoteTargetRef],
      nullable: true,
      resolve: async (u, _args, ctx) => (await once(ctx, `${u.client.name}:targets`, u.api.targets)).map((r) => tag(u, r)),
    }),
    target: t.field({
      type: RemoteTargetRef,
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: async (u, { id }, _ctx) => {
        const target = await u.api.target(id);
        return target && tag(u, target);
      },
    }),
    algorithms: t.field({
      type: [RemoteAlgorithmRef],
      nullable: true,
      resolve: async (u, _args, ctx) => (await remoteAlgorithms(ctx, u)).map((r) => tag(u, r)),
    }),
    algorithm: t.field({
      type: RemoteAlgorithmRef,
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      resolve: async (u, { id }) => {
        const algorithm = await u.api.algorithm(id);
        return algorithm && tag(u, algorithm);
      },
    }),
    models: t.field({
      type: [RemoteModelRef],
      nullable: true,
      description: 'The REST list is unpaged; `first` keeps the newest part of it',
      args: { algorithmId: t.arg.id(), first: t.arg.int() },
      resolve: async (u, args, ctx) => {
        const first = pageArg(args.first, 'first', 10_000);
        const models = await once(ctx, `${u.client.name}:models:${args.algorithmId ?? ''}`, () => u.api.models(args.algorithmId));
        return models.slice(0, first).map((m) => tag(u, m));
      },
    }),
    model: t.field({
      type: RemoteModelRef,
      nullable: true,
      args: { id: t.arg.id({ required: true, description: '"active" is the upstream\'s active model' }) },
      resolve: async (u, { id }) => {
        const model = await u.api.model(id);
        return model && tag(u, model);
      },
    }),
    items: t.field({
      type: RemoteItemPageRef,
      nullable: true,
      description: 'One numbered page, as the REST API pages items',
      args: {
        type: t.arg({ type: ItemType, required: true }),
        modelId: t.arg.id(),
        page: t.arg.int({ description: 'From 1 (default 1)' }),
        count: t.arg.int({ description: 'Items per page, 1..100 (default 20)' }),
      },
      resolve: async (u, args) => {
        const page = await u.api.items({
          type: args.type === 'TRAINING' ? 'training' : 'prediction',
          modelId: args.modelId,
          page: pageArg(args.page, 'page', 1_000_000) ?? 1,
          count: pageArg(args.count, 'count', 100) ?? 20,
        });
        return tag(u, page);
      },
    }),
    item: t.field({
      type: RemoteItemRef,
      nullable: true,
      args: { id: t.arg.id({ required: true }), modelId: t.arg.id({ description: 'Narrows assessments to one model' }) },
      resolve: async (u, args) => {
        const item = await u.api.item(args.id, args.modelId);
        return item && tag(u, item);
      },
    }),
  }),
});

const remoteAlgorithms = (ctx: Context, u: UpstreamShape): Promise<RemoteAlgorithm[]> => once(ctx, `${u.client.name}:algorithms`, u.api.algorithms);

builder.objectType(UpstreamStatus, {
  description: 'How calls to an upstream have been going',
  fields: (t) => ({
    healthy: t.exposeBoolean('healthy'),
    circuit: t.string({
      description: 'closed: calls flow; open: calls fail at once until a cool-down ends; half-open: one trial call decides',
      resolve: (h) => h.circuit.toUpperCase().replace('-', '_'),
    }),
    lastError: t.exposeString('lastError', { nullable: true }),
    checkedAt: t.field({ type: 'DateTime', nullable: true, resolve: (h) => h.checkedAt }),
    latencyMs: t.exposeFloat('latencyMs', { nullable: true }),
    consecutiveFailures: t.exposeInt('consecutiveFailures'),
  }),
});

builder.objectType(RemoteTargetRef, {
  description: "A target of an upstream (the upstream's REST ids, strings)",
  fields: (t) => ({
    id: t.exposeID('id'),
    upstream: t.string({ resolve: (r) => r.upstream.client.name }),
    name: t.exposeString('name'),
    preprocessing: t.field({ type: [PreprocessingType], resolve: (r) => r.preprocessing }),
  }),
});

builder.objectType(RemoteAlgorithmRef, {
  description: 'An algorithm of an upstream',
  fields: (t) => ({
    id: t.exposeID('id'),
    upstream: t.string({ resolve: (r) => r.upstream.client.name }),
    name: t.exposeString('name'),
    version: t.exposeString('version', { nullable: true }),
    type: t.exposeString('type', { nullable: true }),
    attribute: t.exposeString('attribute', { nullable: true }),
    description: t.exposeString('description', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => date(r.createdAt) }),
    parameters: t.field({
      type: [AlgorithmParameter],
      resolve: (r) => r.parameters.map((p) => ({ ...p, algorithmId: r.id, modelParameter: p.modelParameter }) as AlgorithmParameterRecord),
    }),
  }),
});

builder.objectType(RemoteModelRef, {
  description: 'A model of an upstream',
  fields: (t) => ({
    id: t.exposeID('id'),
    upstream: t.string({ resolve: (r) => r.upstream.client.name }),
    name: t.exposeString('name'),
    version: t.exposeString('version', { nullable: true }),
    status: t.field({
      type: ModelStatus,
      nullable: true,
      description: 'Null when the upstream uses a status this API does not know (see statusRaw)',
      resolve: (r) => modelStatus(r.status),
    }),
    statusRaw: t.exposeString('status', { nullable: true, description: 'The status as the upstream spells it' }),
    statusText: t.exposeString('statusText', { nullable: true }),
    active: t.exposeBoolean('active'),
    algorithmId: t.exposeID('algorithmId', { nullable: true }),
    algorithmType: t.exposeString('algorithmType', { nullable: true }),
    algorithm: t.field({
      type: RemoteAlgorithmRef,
      nullable: true,
      resolve: async (r, _args, ctx) => {
        const found = (await remoteAlgorithms(ctx, r.upstream)).find((a) => a.id === r.algorithmId);
        return found ? tag(r.upstream, found) : null;
      },
    }),
    targetId: t.exposeID('targetId', { nullable: true }),
    okImageCount: t.exposeInt('okImageCount', { nullable: true }),
    ngImageCount: t.exposeInt('ngImageCount', { nullable: true }),
    trainingTime: t.exposeFloat('trainingTime', { nullable: true, description: 'Seconds' }),
    stats: t.field({ type: ModelStatsType, nullable: true, resolve: (r) => (r.stats ? { ...r.stats, method: null } : null) }),
    imageUrl: t.exposeString('imageUrl', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => date(r.createdAt) }),
    updatedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => date(r.updatedAt) }),
  }),
});

builder.objectType(RemoteImageRef, {
  fields: (t) => ({
    name: t.exposeString('name'),
    url: t.exposeString('url', { nullable: true, description: "The upstream's link (it may only work where the upstream is reachable)" }),
    width: t.exposeInt('width', { nullable: true }),
    height: t.exposeInt('height', { nullable: true }),
    fileSize: t.exposeInt('fileSize', { nullable: true }),
  }),
});

builder.objectType(RemoteAnnotationRef, {
  fields: (t) => ({
    id: t.exposeID('id', { nullable: true }),
    xMin: t.exposeFloat('xMin', { nullable: true }),
    xMax: t.exposeFloat('xMax', { nullable: true }),
    yMin: t.exposeFloat('yMin', { nullable: true }),
    yMax: t.exposeFloat('yMax', { nullable: true }),
    label: t.int({ nullable: true, resolve: (a) => (a.label === null ? null : Math.round(a.label)) }),
    notes: t.exposeString('notes', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => date(a.createdAt) }),
  }),
});

builder.objectType(RemoteAssessmentRef, {
  fields: (t) => ({
    modelId: t.exposeID('modelId', { nullable: true }),
    result: t.field({ type: AssessmentResult, nullable: true, resolve: (a) => assessmentResult(a.result) }),
    label: t.exposeString('label', { nullable: true }),
    detectedObjects: t.exposeInt('detectedObjects', { nullable: true }),
    detectionAccuracy: t.exposeInt('detectionAccuracy', { nullable: true }),
    annotations: t.field({ type: [RemoteAnnotationRef], resolve: (a) => a.annotations }),
    images: t.field({ type: [RemoteImageRef], resolve: (a) => a.images }),
  }),
});

builder.objectType(RemoteUserAssessmentRef, {
  fields: (t) => ({
    label: t.exposeString('label', { nullable: true }),
    result: t.field({ type: AssessmentResult, nullable: true, resolve: (a) => assessmentResult(a.result) }),
    annotations: t.field({ type: [RemoteAnnotationRef], resolve: (a) => a.annotations }),
  }),
});

builder.objectType(RemoteItemRef, {
  description: 'An item of an upstream',
  fields: (t) => ({
    id: t.exposeID('id'),
    upstream: t.string({ resolve: (r) => r.upstream.client.name }),
    name: t.exposeString('name'),
    status: t.exposeString('status', { nullable: true }),
    active: t.exposeBoolean('active'),
    isTrainingData: t.exposeBoolean('isTrainingData'),
    images: t.field({ type: [RemoteImageRef], resolve: (r) => r.images }),
    assessments: t.field({ type: [RemoteAssessmentRef], resolve: (r) => r.assessments }),
    userAssessment: t.field({ type: RemoteUserAssessmentRef, nullable: true, resolve: (r) => r.userAssessment }),
  }),
});

builder.objectType(RemoteItemPageRef, {
  fields: (t) => ({
    items: t.field({ type: [RemoteItemRef], resolve: (p) => p.items.map((i) => tag(p.upstream, i)) }),
    currentPage: t.exposeInt('currentPage'),
    endPage: t.exposeInt('endPage'),
    countPerPage: t.exposeInt('countPerPage'),
  }),
});

builder.objectType(RemotePredictionJob, {
  description: 'A background prediction requested on an upstream',
  fields: (t) => ({
    upstream: t.exposeString('upstream'),
    modelId: t.exposeID('modelId'),
    itemIds: t.exposeIDList('itemIds'),
    modelVersion: t.exposeString('modelVersion', { nullable: true }),
  }),
});

builder.queryFields((t) => ({
  upstreams: t.field({
    type: [Upstream],
    description: 'Every configured upstream (UPSTREAMS); empty when none is',
    resolve: (_root, _args, ctx) => ctx.services.upstreams.list().map(shapeOf),
  }),
  upstream: t.field({
    type: Upstream,
    nullable: true,
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, { name }, ctx) => {
      const client = ctx.services.upstreams.get(name);
      return client ? shapeOf(client) : null;
    },
  }),
}));

builder.mutationFields((t) => ({
  upstreamRequestPrediction: t.field({
    type: RemotePredictionJob,
    description: 'Starts a background prediction on an upstream (its REST predict); results appear in its items',
    args: {
      upstream: t.arg.string({ required: true }),
      modelId: t.arg.id({ required: true, description: '"active" for its active model' }),
      itemIds: t.arg.idList({ required: true }),
    },
    resolve: async (_root, args, ctx) => {
      const u = upstreamByName(ctx, args.upstream);
      if (args.itemIds.length === 0) throw badInput('itemIds must not be empty', { argument: 'itemIds' });
      const job = await u.api.requestPrediction(args.modelId, [...args.itemIds]);
      return { upstream: u.client.name, modelId: args.modelId, ...job };
    },
  }),
  upstreamTrainModel: t.field({
    type: RemoteModelRef,
    description: 'Starts training on an upstream (its REST train); answers with the queued model',
    args: {
      upstream: t.arg.string({ required: true }),
      algorithmId: t.arg.id({ required: true }),
      name: t.arg.string(),
      itemIds: t.arg.idList(),
      overrideParams: t.arg({ type: [OverrideParamInput] }),
    },
    resolve: async (_root, args, ctx) => {
      const u = upstreamByName(ctx, args.upstream);
      const overrideParams = args.overrideParams?.map((p, i) => {
        if (!p.parameterId) throw badInput(`overrideParams[${i}] needs parameterId for an upstream`, { argument: 'overrideParams' });
        return { parameterId: String(p.parameterId), value: p.value };
      });
      const model = await u.api.trainModel(args.algorithmId, { name: args.name, itemIds: args.itemIds ? [...args.itemIds] : null, overrideParams });
      return tag(u, model);
    },
  }),
}));
