import { AppError, ErrorCode } from '../errors.ts';
import { ACTIVE } from '../runtime/store/lookup.ts';
import type { AlgorithmRecord, ModelRecord, TargetRecord } from '../runtime/store/types.ts';
import { RestFailure } from './http.ts';
import type { RestCall } from './operation.ts';

// Records named in a REST request. Targets go by their integer `target_id` (the key the REST
// answers carry); the GraphQL id is accepted as well, so a link copied from the dashboard works.

const missing = (what: string, id: string | number, key: string) =>
  new RestFailure(404, `${what} ${JSON.stringify(id)} does not exist`, {
    code: ErrorCode.NOT_FOUND,
    messages: [{ key, errors: [`${what} ${JSON.stringify(id)} does not exist`] }],
  });

export async function targetByRestId(call: Pick<RestCall, 'services' | 'loaders'>, id: string | number, key = 'target_id'): Promise<TargetRecord> {
  if (typeof id === 'number' || /^\d+$/.test(id)) {
    const [target] = await call.services.store.targetsByKeys([Number(id)]);
    if (target) {
      call.loaders.target.prime(target.id, target);
      return target;
    }
    throw missing('Target', Number(id), key);
  }
  try {
    return await call.loaders.target.load(id);
  } catch (err) {
    if (err instanceof AppError && err.code === ErrorCode.NOT_FOUND) throw missing('Target', id, key);
    throw err;
  }
}

export async function algorithmById(call: Pick<RestCall, 'loaders'>, id: string, key = 'algorithm_id'): Promise<AlgorithmRecord> {
  try {
    return await call.loaders.algorithm.load(id);
  } catch (err) {
    if (err instanceof AppError && err.code === ErrorCode.NOT_FOUND) throw missing('Algorithm', id, key);
    throw err;
  }
}

/** The default target; 422 when there is no target at all yet. */
export async function defaultTarget(call: Pick<RestCall, 'services'>): Promise<TargetRecord> {
  const target = await call.services.store.defaultTarget();
  if (target) return target;
  const detail = 'there is no inspection target yet: upload training items first (POST /api/v1/items/)';
  throw new RestFailure(422, detail, { code: ErrorCode.BAD_USER_INPUT, messages: [{ key: 'target_id', errors: [detail] }] });
}

/** A model by id, or `active`: the default target's active model (404 when there is none). */
export async function modelByRestRef(call: Pick<RestCall, 'services' | 'loaders'>, ref: string, key = 'model_id'): Promise<ModelRecord> {
  if (ref === ACTIVE) {
    const target = await call.services.store.defaultTarget();
    const model = target ? await call.loaders.activeModel.load(target.id) : null;
    if (!model) {
      const why = target ? `target ${target.key} ("${target.name}") has no active model` : 'there is no inspection target yet';
      throw new RestFailure(404, `no active model: ${why}`, { code: ErrorCode.NOT_FOUND, messages: [{ key, errors: [`no active model: ${why}`] }] });
    }
    return model;
  }
  try {
    return await call.loaders.model.load(ref);
  } catch (err) {
    if (err instanceof AppError && err.code === ErrorCode.NOT_FOUND) throw missing('Model', ref, key);
    throw err;
  }
}
