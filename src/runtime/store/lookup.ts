import { AppError, ErrorCode, notFound } from '../../errors.ts';
import type { Store } from './store.ts';
import type { ModelRecord, Region, RegionSetRecord, TargetRecord } from './types.ts';

/**
 * What "the default target" and the model id `"active"` mean, in one place for every engine and
 * for the GraphQL reads. The lookups come from the store, or from a request's dataloaders.
 */
export const ACTIVE = 'active';

export interface RecordLookup {
  /** NOT_FOUND when it does not exist. */
  target(id: string): Promise<TargetRecord>;
  defaultTarget(): Promise<TargetRecord | null>;
  /** NOT_FOUND when it does not exist. */
  model(id: string): Promise<ModelRecord>;
  activeModel(targetId: string): Promise<ModelRecord | null>;
}

export function storeLookup(store: Store): RecordLookup {
  return {
    async target(id) {
      const [t] = await store.targetsByIds([id]);
      if (!t) throw notFound('Target', id);
      return t;
    },
    defaultTarget: () => store.defaultTarget(),
    async model(id) {
      const [m] = await store.modelsByIds([id]);
      if (!m) throw notFound('Model', id);
      return m;
    },
    activeModel: (targetId) => store.activeModel(targetId),
  };
}

/** The given target, else the default one; NOT_FOUND when there is none yet. */
export async function targetOrDefault(lookup: RecordLookup, targetId: string | null | undefined): Promise<TargetRecord> {
  if (targetId) return lookup.target(targetId);
  const target = await lookup.defaultTarget();
  if (!target) throw new AppError(ErrorCode.NOT_FOUND, 'there is no inspection target yet; create one first');
  return target;
}

/** A model by id; `"active"` is the active model of `targetId` (default: the default target), as in the REST API. */
export async function modelByRef(lookup: RecordLookup, ref: string, targetId?: string | null): Promise<ModelRecord> {
  if (ref !== ACTIVE) return lookup.model(ref);
  const target = await targetOrDefault(lookup, targetId);
  const model = await lookup.activeModel(target.id);
  if (!model) throw notFound('Active model of target', target.name);
  return model;
}

/** A READY model with its ONNX graph; CONFLICT otherwise (naming the argument the ref came in). */
export function requireReady(model: ModelRecord, argument = 'modelId'): ModelRecord {
  if (model.status !== 'READY' || !model.onnxBlob) {
    throw new AppError(ErrorCode.CONFLICT, `model "${model.id}" is ${model.status}; only a READY model can predict`, { argument, id: model.id });
  }
  return model;
}

/** The regions a model judges with, and whose they are. */
export interface EffectiveRegions {
  regions: Region[];
  /** 'model': its own set (possibly empty: the whole picture); 'target': its target's (none: []). */
  source: 'model' | 'target';
}

/** A model's own regions override its target's (`sets`: those of the model and its target). */
export function effectiveRegions(sets: readonly RegionSetRecord[], model: Pick<ModelRecord, 'id' | 'targetId'>): EffectiveRegions {
  const own = sets.find((s) => s.ownerId === model.id);
  if (own) return { regions: own.regions, source: 'model' };
  return { regions: sets.find((s) => s.ownerId === model.targetId)?.regions ?? [], source: 'target' };
}
