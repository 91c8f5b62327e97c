import { clearLoaders, type Context } from '../context.ts';
import { AppError, ErrorCode, notFound } from '../errors.ts';
import type { Subscription } from '../runtime/pubsub/pubsub.ts';
import type { Topics } from '../runtime/pubsub/topics.ts';
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
      "model starts with the model's current state (so nothing is missed between `trainModel` and " +
      'subscribing), never goes backwards, and completes after the final event (READY, FAILED or ' +
      'CANCELLED; at once for a model that already finished). A client that reads slowly misses ' +
      'intermediate steps, never the latest one.',
    args: { modelId: t.arg.id() },
    subscribe: async (_root, { modelId }, ctx) => {
      if (!modelId) return ready(ctx.services.pubsub.subscribe('trainingProgress'));
      const { id } = await loadModel(ctx, modelId);
      const live = await ready(ctx.services.pubsub.subscribe('trainingProgress', id));
      // Read after the subscription is live: every later step is either in this record or delivered.
      const [model] = await ctx.services.store.modelsByIds([id]).catch(async (err) => {
        await live.return();
        throw err;
      });
      if (!model) {
        await live.return();
        throw notFound('Model', id);
      }
      const snapshot: Topics['trainingProgress'] = {
        modelId: id,
        progress: model.progress,
        stage: model.stage ?? '',
        status: model.status,
        message: model.statusText,
        at: model.updatedAt,
      };
      return startWith(
        snapshot,
        // Steps published before the read and delivered after it are stale: skip them.
        filtered(
          live,
          (e) => !isBehind(e, snapshot),
          (e) => TERMINAL.has(e.status),
        ),
        TERMINAL.has(snapshot.status),
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

const RANK: Record<string, number> = { QUEUED: 0, TRAINING: 1, READY: 2, FAILED: 2, CANCELLED: 2 };

/** Whether a step is older than (or the same as) the state already sent. */
function isBehind(e: Topics['trainingProgress'], s: Topics['trainingProgress']): boolean {
  const [re, rs] = [RANK[e.status] ?? 0, RANK[s.status] ?? 0];
  if (re !== rs) return re < rs;
  if (e.progress !== s.progress) return e.progress < s.progress;
  return e.status === s.status && e.stage === s.stage && e.message === s.message;
}

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

/** Yields `first`, then `rest` (or nothing more when `only`: `rest` is released at once). */
function startWith<T>(first: T, rest: Subscription<T>, only: boolean): Subscription<T> {
  let sent = false;
  if (only) void rest.return();
  const it: Subscription<T> = {
    ready: rest.ready,
    get dropped() {
      return rest.dropped;
    },
    next() {
      if (!sent) {
        sent = true;
        return Promise.resolve({ value: first, done: false });
      }
      return rest.next();
    },
    return: () => {
      sent = true;
      return rest.return();
    },
    throw: (e?: unknown) => rest.throw!(e),
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}

/**
 * Keeps the events `keep` accepts and completes after the one `last` marks. Not an async
 * generator: a generator parked in `await next()` cannot be returned until the next event comes,
 * which would hold the channel of an idle subscription after the client left.
 */
function filtered<T>(source: Subscription<T>, keep: (event: T) => boolean, last: (event: T) => boolean = () => false): Subscription<T> {
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
