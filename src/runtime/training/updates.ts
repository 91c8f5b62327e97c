import { AppError, ErrorCode } from '../../errors.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import type { ModelPatch, Store } from '../store/store.ts';
import type { ModelRecord } from '../store/types.ts';
import type { TrainingLogger } from './training.ts';

/** The actor of an automatic activation in the target's activation history. */
export const AUTO_ACTIVATION = 'system: first model of the target';

/** Writes to a model under training, each published on `trainingProgress` once stored. */
export interface ModelUpdates {
  update(id: string, patch: ModelPatch, message?: string | null): Promise<ModelRecord>;
  /** The final write of a job; null when the model was deleted meanwhile (nothing to do then). */
  finish(id: string, patch: ModelPatch): Promise<ModelRecord | null>;
  /**
   * The READY write. The first model of a target that has no active one becomes active (so
   * "active" works from the first trained model on, which REST clients of the original API, with
   * no way to activate, rely on); a later model waits for a person to activate it, since a line
   * should not switch models unreviewed. Published once the activation is stored.
   */
  ready(id: string, patch: ModelPatch): Promise<ModelRecord | null>;
}

export function modelUpdates({ store, pubsub, log }: { store: Store; pubsub: PubSub; log: TrainingLogger }): ModelUpdates {
  const publish = (m: ModelRecord, message: string | null) =>
    pubsub
      .publish('trainingProgress', m.id, {
        modelId: m.id,
        progress: m.progress,
        stage: m.stage ?? '',
        status: m.status,
        message: message ?? m.statusText,
        at: new Date().toISOString(),
      })
      .catch((err) => log.warn({ err, modelId: m.id }, 'training: progress not published'));

  const update = async (id: string, patch: ModelPatch, message: string | null = null) => {
    const m = await store.updateModel(id, patch);
    await publish(m, message);
    return m;
  };
  const unlessGone = <T>(p: Promise<T>) =>
    p.catch((err) => {
      if (err instanceof AppError && err.code === ErrorCode.NOT_FOUND) return null;
      throw err;
    });
  return {
    update,
    finish: (id, patch) => unlessGone(update(id, patch)),
    ready: (id, patch) =>
      unlessGone(
        (async () => {
          await store.updateModel(id, patch);
          const m = await store.activateModel(id, AUTO_ACTIVATION, { ifNoneActive: true });
          await publish(m, null);
          if (m.active)
            await pubsub
              .publish('modelActivated', m.id, { modelId: m.id, targetId: m.targetId, at: new Date().toISOString() })
              .catch((err) => log.warn({ err, modelId: m.id }, 'modelActivated not published'));
          return m;
        })(),
      ),
  };
}
