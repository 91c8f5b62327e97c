import { clearLoaders, type Context } from '../context.ts';
import { AppError, ErrorCode } from '../errors.ts';
import type { Subscription } from '../runtime/pubsub/pubsub.ts';
import { ModelStatus as Status } from '../runtime/store/types.ts';
import { builder } from '../schema/builder.ts';
import { Assessment } from '../schema/assessments.ts';
import { Item } from '../schema/items.ts';
import { Model, ModelStatus } from '../schema/models.ts';
import { PredictionResult, TrainingProgress } from '../schema/realtime.ts';
import { loadModel, targetOrDefault } from './lookup.ts';

const TERMINAL: ReadonlySet<string> = new Set([Status.READY, Status.FAILED, Status.CANCELLED]);

builder.objectType(TrainingProgress, {
  description: 'One step of a training job',
  fields: (t) => ({
    model: t.field({ type: Model, resolve: (e, _a, ctx) => ctx.loaders.model.load(e.modelId) }),
    progress: t.exposeFloat('progress', { description: '0..1; 1 when READY' }),
    stage: t.exposeString('stage', { description: 'What the job is doing, e.g. "features" or "fit"' }),
    status: t.field({ type: ModelStatus, resolve: (e) => e.status }),
    message: t.exposeString('message', { nullable: true }),
    at: t.field({ type: 'DateTime', description: 'When the step happened', resolve: (e) => e.at }),
  }),
});

builder.objectType(PredictionResult, {
  description: 'An assessment that was just stored',
  fields: (t) => ({
    assessment: t.field({ type: Assessment, resolve: (e, _a, ctx) => ctx.loaders.assessment.load(e.assessmentId) }),
    item: t.field({ type: Item, resolve: (e, _a, ctx) => ctx.loaders.item.load(e.itemId) }),
    at: t.field({ type: 'DateTime', description: 'When the assessment was stored', resolve: (e) => e.at }),
  }),
});

builder.subscriptionFields((t) => ({
  trainingProgress: t.field({
    type: TrainingProgress,
    description:
      'Every step of training jobs: of one model (`"active"`: the default target\'s active model, resolved ' +
      'when the subscription starts), or of every model when `modelId` is omitted. A subscription to one ' +
      'model completes after its final event (status READY, FAILED or CANCELLED). A client that reads ' +
      'slowly misses intermediate steps, never the latest one.',
    args: { modelId: t.arg.id() },
    subscribe: async (_root, { modelId }, ctx) => {
      if (!modelId) return ctx.services.pubsub.subscribe('trainingProgress');
      const model = await loadModel(ctx, modelId);
      return ready(
        filtered(ctx.services.pubsub.subscribe('trainingProgress', model.id), () => true, (e) => TERMINAL.has(e.status)),
      );
    },
    // One subscription's context lives for hours: each event reads fresh records.
    resolve: (event, _args, ctx) => fresh(ctx, event),
  }),
  predictionResults: t.field({
    type: PredictionResult,
    description:
      'Assessments as they are stored, of one model (`"active"`: the active model of `targetId`, else of ' +
      'the default target, resolved when the subscription starts) and/or of one target; every ' +
      'assessment when both are omitted. A client that falls more than 1024 results behind gets an ' +
      'UNAVAILABLE error and should resubscribe and refetch.',
    args: { modelId: t.arg.id(), targetId: t.arg.id() },
    subscribe: async (_root, { modelId, targetId }, ctx) => {
      const target = targetId ? await targetOrDefault(ctx, targetId) : null;
      if (!modelId) {
        const all = ctx.services.pubsub.subscribe('predictionResult');
        return ready(target ? filtered(all, (e) => e.targetId === target.id) : all);
      }
      const model = await loadModel(ctx, modelId, targetId);
      if (target && model.targetId !== target.id) {
        throw new AppError(ErrorCode.BAD_USER_INPUT, `model "${model.id}" does not belong to target "${target.id}"`, {
          argument: 'targetId',
        });
      }
      return ready(ctx.services.pubsub.subscribe('predictionResult', model.id));
    },
    resolve: (event, _args, ctx) => fresh(ctx, event),
  }),
}));

function fresh<T>(ctx: Context, event: T): T {
  clearLoaders(ctx);
  return event;
}

/**
 * Waits until the transport delivers (Redis acknowledged the SUBSCRIBE) before the operation
 * starts, so that an event published once the subscription is set up is not missed.
 */
async function ready<T>(sub: Subscription<T>): Promise<Subscription<T>> {
  await sub.ready;
  return sub;
}

/**
 * Keeps the events `keep` accepts and completes after the one `last` marks. Not an async
 * generator: a generator parked in `await next()` cannot be returned until the next event comes,
 * which would hold the channel of an idle subscription after the client left.
 */
function filtered<T>(
  source: Subscription<T>,
  keep: (event: T) => boolean,
  last: (event: T) => boolean = () => false,
): Subscription<T> {
  let finished = false;
  const it: Subscription<T> = {
    ready: source.ready,
    get dropped() {
      return source.dropped;
    },
    async next() {
      while (!finished) {
        const r = await source.next();
        if (r.done) break;
        if (!keep(r.value)) continue;
        if (last(r.value)) {
          finished = true;
          void source.return();
        }
        return r;
      }
      return { value: undefined, done: true };
    },
    return() {
      finished = true;
      return source.return();
    },
    throw(e?: unknown) {
      finished = true;
      void source.return();
      return Promise.reject(e);
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}

