import type { Context } from '../context.ts';
import { AppError, ErrorCode } from '../errors.ts';
import { DEFAULT_TARGET } from '../loaders.ts';
import { modelByRef, targetOrDefault as targetOrDefaultOf, type RecordLookup } from '../runtime/store/lookup.ts';
import type { ModelRecord, TargetRecord } from '../runtime/store/types.ts';

/**
 * Lookups for resolvers through the request's dataloaders (cached, batched), with the meaning of
 * "active" and of the default target from the runtime (store/lookup.ts), as the engines use it.
 */
export { ACTIVE } from '../runtime/store/lookup.ts';

function loaderLookup(ctx: Context): RecordLookup {
  return {
    target: (id) => ctx.loaders.target.load(id),
    async defaultTarget() {
      const target = await ctx.loaders.defaultTarget.load(DEFAULT_TARGET);
      if (target) ctx.loaders.target.prime(target.id, target);
      return target;
    },
    model: (id) => ctx.loaders.model.load(id),
    async activeModel(targetId) {
      const model = await ctx.loaders.activeModel.load(targetId);
      if (model) ctx.loaders.model.prime(model.id, model);
      return model;
    },
  };
}

/** The given target, else the default one. */
export const targetOrDefault = (ctx: Context, targetId: string | null | undefined): Promise<TargetRecord> => targetOrDefaultOf(loaderLookup(ctx), targetId);

/**
 * A model by id; `"active"` is the active model of `targetId` (default: the default target), as in
 * the REST API.
 */
export const loadModel = (ctx: Context, id: string, targetId?: string | null): Promise<ModelRecord> => modelByRef(loaderLookup(ctx), id, targetId);

/** Loads every id, failing with one NOT_FOUND that names all the missing ones. */
export async function loadAll<T>(what: string, ids: readonly string[], load: (ids: readonly string[]) => Promise<(T | Error)[]>): Promise<T[]> {
  const found = await load(ids);
  const missing = ids.filter((_, i) => found[i] instanceof Error);
  if (missing.length > 0) {
    throw new AppError(ErrorCode.NOT_FOUND, `${what} ${missing.map((id) => `"${id}"`).join(', ')} not found`, {
      ids: missing,
    });
  }
  return found as T[];
}

/**
 * Most ids one mutation takes: a list argument otherwise grows a single request's work (and a
 * synchronous predict's wait) without bound; callers page through larger sets.
 */
export const MAX_IDS = 1000;

/**
 * `distinctIds` for an answer that lines up with the ids (one result per id, in their order): a
 * repeated id is refused rather than dropped, which would shift every later result.
 */
export function orderedIds(ids: readonly string[], argument: string): string[] {
  const out = distinctIds(ids, argument);
  if (out.length < ids.length) {
    const repeated = ids.find((id, i) => ids.indexOf(id) !== i)!;
    throw new AppError(ErrorCode.BAD_USER_INPUT, `${argument} lists "${repeated}" more than once; the answer has one entry per id, in their order`, {
      argument,
      id: repeated,
    });
  }
  return out;
}

/** Drops duplicates, keeping order; refuses an empty list and one longer than MAX_IDS. */
export function distinctIds(ids: readonly string[], argument: string): string[] {
  const out = [...new Set(ids)];
  if (out.length === 0) throw new AppError(ErrorCode.BAD_USER_INPUT, `${argument} must not be empty`, { argument });
  if (out.length > MAX_IDS) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `${argument} takes at most ${MAX_IDS} ids, got ${out.length}; send them in parts`, {
      argument,
    });
  }
  return out;
}
