import { badInput, notFound } from '../../errors.ts';
import type { NewModel, Store } from '../store/store.ts';
import { type ItemRecord, ItemType, ModelStatus } from '../store/types.ts';
import { algorithmById } from './algorithms/index.ts';
import { checkValue, effectiveParams, num, optionalNum } from './algorithms/params.ts';
import type { TrainRequest } from './training.ts';

/** Fewest OK pictures a model can learn from (held-out scores need two). */
export const MIN_OK_IMAGES = 2;

/**
 * The training use case up to the queue: checks the request (algorithm, parameter overrides by
 * id or name, items of the target, enough OK pictures) and answers the model row to create
 * (QUEUED, with everything a worker needs to run it later, anywhere).
 */
export async function modelForRequest(store: Store, req: TrainRequest): Promise<NewModel> {
  const algorithm = algorithmById(req.algorithmId);
  if (!algorithm) throw notFound('Algorithm', req.algorithmId);
  const [target] = await store.targetsByIds([req.targetId]);
  if (!target) throw notFound('Target', req.targetId);

  const defs = algorithm.definition.parameters;
  const overrides: Record<string, string> = {};
  if (req.overrideParams?.length) {
    const stored = await store.parametersByAlgorithmIds([algorithm.definition.id]);
    for (const o of req.overrideParams) {
      const name = o.name ?? stored.find((p) => p.id === o.parameterId)?.name;
      const def = defs.find((d) => d.name === name);
      if (!def) {
        throw badInput(`algorithm "${algorithm.definition.name}" has no parameter ${o.name ? `"${o.name}"` : `with id "${o.parameterId}"`}`, {
          argument: 'overrideParams',
        });
      }
      const reason = checkValue(def, o.value);
      if (reason) throw badInput(reason, { argument: 'overrideParams', parameter: def.name });
      overrides[def.name] = o.value;
    }
  }
  const params = effectiveParams(defs, overrides);

  const items = await trainingItems(store, target.id, req.itemIds);
  const okCount = items.filter((i) => i.good !== false).length;
  const ngCount = items.length - okCount;
  if (okCount < MIN_OK_IMAGES) {
    throw badInput(`at least ${MIN_OK_IMAGES} OK training pictures are needed, the target has ${okCount}`, { argument: 'itemIds' });
  }
  return {
    name: req.name?.trim() || `${algorithm.definition.name} ${new Date().toISOString().slice(0, 19).replace('T', ' ')}`,
    version: algorithm.definition.version,
    algorithmId: algorithm.definition.id,
    targetId: target.id,
    status: ModelStatus.QUEUED,
    params,
    predictParameters: {
      threshold: optionalNum(params, 'threshold') ?? 0,
      ignoreOuter: num(params, 'ignore_outer', 0),
      minDetectedArea: num(params, 'min_detected_area', 0),
    },
    trainItemIds: items.map((i) => i.id),
    okImageCount: okCount,
    ngImageCount: ngCount,
  };
}

/** The items asked for (all of the target, NOT_FOUND / BAD_USER_INPUT otherwise), else every active training item of the target, oldest first. */
async function trainingItems(store: Store, targetId: string, itemIds: readonly string[] | null | undefined): Promise<ItemRecord[]> {
  if (itemIds?.length) {
    const found = await store.itemsByIds(itemIds);
    const byId = new Map(found.map((i) => [i.id, i]));
    const missing = itemIds.find((id) => !byId.has(id));
    if (missing) throw notFound('Item', missing);
    const foreign = found.find((i) => i.targetId !== targetId);
    if (foreign) throw badInput(`item "${foreign.id}" belongs to another target`, { argument: 'itemIds' });
    return [...new Set(itemIds)].map((id) => byId.get(id)!);
  }
  const all: ItemRecord[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await store.listItems({ type: ItemType.TRAINING, targetId }, { first: 100, after });
    all.push(...page.nodes.filter((i) => i.active));
    if (!page.hasNextPage || !page.endCursor) break;
    after = page.endCursor;
  }
  return all.reverse(); // oldest first: upload order
}
