import { AppError, ErrorCode } from '../../errors.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import type { ModelPatch, Store } from '../store/store.ts';
import type { ModelRecord } from '../store/types.ts';
import type { TrainingLogger } from './training.ts';

/** Writes to a model under training, each published on `trainingProgress` once stored. */
export interface ModelUpdates {
  update(id: string, patch: ModelPatch, message?: string | null): Promise<ModelRecord>;
  /** The final write of a job; null when the model was deleted meanwhile (nothing to do then). */
  finish(id: string, patch: ModelPatch): Promise<ModelRecord | null>;
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
  return {
    update,
    finish: (id, patch) =>
      update(id, patch).catch((err) => {
        if (err instanceof AppError && err.code === ErrorCode.NOT_FOUND) return null;
        throw err;
      }),
  };
}
