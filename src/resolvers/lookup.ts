import type { Context } from '../context.ts';
import { AppError, ErrorCode, notFound } from '../errors.ts';
import { DEFAULT_TARGET } from '../loaders.ts';
import type { ModelRecord, TargetRecord } from '../runtime/store/types.ts';

/** Shared lookups for resolvers, so that "active" and the default target mean the same everywhere. */

export const ACTIVE = 'active';

export async function defaultTarget(ctx: Context): Promise<TargetRecord> {
  const target = await ctx.loaders.defaultTarget.load(DEFAULT_TARGET);
  if (!target) throw new AppError(ErrorCode.NOT_FOUND, 'there is no default target yet; create one with createTarget');
  ctx.loaders.target.prime(target.id, target);
  return target;
}

/** The given target, else the default one. */
export const targetOrDefault = (ctx: Context, targetId: string | null | undefined): Promise<TargetRecord> =>
  targetId ? ctx.loaders.target.load(targetId) : defaultTarget(ctx);

/**
 * A model by id; `"active"` is the active model of `targetId` (default: the default target), as in
 * the REST API.
 */
export async function loadModel(ctx: Context, id: string, targetId?: string | null): Promise<ModelRecord> {
  if (id !== ACTIVE) return ctx.loaders.model.load(id);
  const target = await targetOrDefault(ctx, targetId);
  const model = await ctx.loaders.activeModel.load(target.id);
  if (!model) throw notFound('Active model of target', target.name);
  ctx.loaders.model.prime(model.id, model);
  return model;
}

/** Loads every id, failing with one NOT_FOUND that names all the missing ones. */
export async function loadAll<T>(
  what: string,
  ids: readonly string[],
  load: (ids: readonly string[]) => Promise<(T | Error)[]>,
): Promise<T[]> {
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
