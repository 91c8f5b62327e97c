import DataLoader from 'dataloader';
import { notFound } from './errors.ts';
import type { Store } from './runtime/store/store.ts';
import type {
  AlgorithmParameterRecord,
  AlgorithmRecord,
  AnnotationRecord,
  AssessmentRecord,
  ImageRecord,
  ItemRecord,
  ItemType,
  KeysetPage,
  ModelRecord,
  RegionSetRecord,
  TargetRecord,
} from './runtime/store/types.ts';

/** `item.assessments(modelId)`: one key per item and model filter (null = every model). */
export interface AssessmentsKey {
  itemId: string;
  modelId: string | null;
}

/** One page of a target's items (`type` null: both kinds) or models. */
export interface TargetPageKey {
  targetId: string;
  type?: ItemType | null;
  first?: number | null;
  after?: string | null;
}

/**
 * One set per request (and per subscription event): every nested field reads through these, so a
 * query costs one store read per level however many rows it touches.
 */
export interface Loaders {
  target: DataLoader<string, TargetRecord>;
  algorithm: DataLoader<string, AlgorithmRecord>;
  parametersByAlgorithm: DataLoader<string, AlgorithmParameterRecord[]>;
  model: DataLoader<string, ModelRecord>;
  item: DataLoader<string, ItemRecord>;
  image: DataLoader<string, ImageRecord>;
  imagesByItem: DataLoader<string, ImageRecord[]>;
  imagesByAssessment: DataLoader<string, ImageRecord[]>;
  /** Newest first. */
  assessmentsByItem: DataLoader<AssessmentsKey, AssessmentRecord[], string>;
  assessment: DataLoader<string, AssessmentRecord>;
  annotationsByAssessment: DataLoader<string, AnnotationRecord[]>;
  userAnnotationsByItem: DataLoader<string, AnnotationRecord[]>;
  /** Pages of many targets with the same arguments cost one batch (e.g. `targets { items }`). */
  itemsByTarget: DataLoader<TargetPageKey, KeysetPage<ItemRecord>, string>;
  modelsByTarget: DataLoader<TargetPageKey, KeysetPage<ModelRecord>, string>;
  /** `totalCount` of those pages, read only when a query asks for it. */
  itemCountByTarget: DataLoader<TargetPageKey, number, string>;
  modelCountByTarget: DataLoader<TargetPageKey, number, string>;
  /** By target id; null when the target has none. */
  activeModel: DataLoader<string, ModelRecord | null>;
  /** The one key is `DEFAULT_TARGET`; null when there is no target yet. */
  defaultTarget: DataLoader<typeof DEFAULT_TARGET, TargetRecord | null>;
  /** The regions a target or model has of its own, by owner id; null when it has none. */
  regionSet: DataLoader<string, RegionSetRecord | null>;
}

export const DEFAULT_TARGET = 'default';

/** Records in key order; a NOT_FOUND error in place of each missing one. */
function byId<T extends { id: string }>(what: string, fetch: (ids: readonly string[]) => Promise<T[]>) {
  return new DataLoader<string, T>(async (ids) => {
    const found = new Map((await fetch(ids)).map((r) => [r.id, r]));
    return ids.map((id) => found.get(id) ?? notFound(what, id));
  });
}

/** Lists in key order, grouped by `keyOf`; an empty list for keys with nothing. */
function groupBy<T>(fetch: (keys: readonly string[]) => Promise<T[]>, keyOf: (r: T) => string) {
  return new DataLoader<string, T[]>(async (keys) => {
    const groups = new Map<string, T[]>(keys.map((k) => [k, []]));
    for (const r of await fetch(keys)) groups.get(keyOf(r))?.push(r);
    return keys.map((k) => groups.get(k)!);
  });
}

/**
 * Per-target reads (pages, counts), one store call per distinct arguments in the batch (a target
 * asked twice with the same arguments shares the rows). A bad cursor fails only the keys that carry it.
 */
function byTarget<V>(argsOf: (k: TargetPageKey) => string, fetch: (targetIds: string[], key: TargetPageKey) => Promise<Map<string, V>>) {
  const keyOf = (k: TargetPageKey) => `${k.targetId}|${argsOf(k)}`;
  return new DataLoader<TargetPageKey, V, string>(
    async (keys) => {
      const groups = new Map<string, TargetPageKey[]>();
      for (const k of keys) groups.set(argsOf(k), [...(groups.get(argsOf(k)) ?? []), k]);
      const results = new Map<string, V | Error>();
      await Promise.all(
        [...groups.values()].map(async (group) => {
          try {
            const values = await fetch(
              group.map((k) => k.targetId),
              group[0]!,
            );
            for (const k of group) results.set(keyOf(k), values.get(k.targetId)!);
          } catch (err) {
            for (const k of group) results.set(keyOf(k), err as Error);
          }
        }),
      );
      return keys.map((k) => results.get(keyOf(k))!);
    },
    // Batched but not cached: a mutation earlier in the request may have changed the lists.
    { cache: false },
  );
}
const pageArgsOf = (k: TargetPageKey) => JSON.stringify([k.type ?? null, k.first ?? null, k.after ?? null]);
const typeOf = (k: TargetPageKey) => k.type ?? '';

const newestFirst = (a: AssessmentRecord, b: AssessmentRecord) =>
  a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;

export function createLoaders(store: Store): Loaders {
  return {
    target: byId('Target', (ids) => store.targetsByIds(ids)),
    algorithm: byId('Algorithm', (ids) => store.algorithmsByIds(ids)),
    parametersByAlgorithm: groupBy(
      (ids) => store.parametersByAlgorithmIds(ids),
      (p) => p.algorithmId,
    ),
    model: byId('Model', (ids) => store.modelsByIds(ids)),
    item: byId('Item', (ids) => store.itemsByIds(ids)),
    image: byId('Image', (ids) => store.imagesByIds(ids)),
    imagesByItem: groupBy(
      (ids) => store.imagesByOwners('item', ids),
      (i) => i.ownerId,
    ),
    imagesByAssessment: groupBy(
      (ids) => store.imagesByOwners('assessment', ids),
      (i) => i.ownerId,
    ),
    assessmentsByItem: new DataLoader<AssessmentsKey, AssessmentRecord[], string>(
      async (keys) => {
        // One store read: narrowed by model when the whole batch asks for the same one (the
        // common case), else every assessment of the items, sorted out here. Items of several
        // targets with modelId "active" ask for several models in one batch.
        const filters = new Set(keys.map((k) => k.modelId));
        const only = filters.size === 1 ? keys[0]!.modelId : null;
        const rows = await store.assessmentsByItemIds([...new Set(keys.map((k) => k.itemId))], only);
        const results = new Map<string, AssessmentRecord[]>(keys.map((k) => [`${k.itemId}|${k.modelId ?? ''}`, []]));
        for (const r of rows) {
          results.get(`${r.itemId}|`)?.push(r); // keys of every model
          results.get(`${r.itemId}|${r.modelId}`)?.push(r); // keys narrowed to this one
        }
        return keys.map((k) => results.get(`${k.itemId}|${k.modelId ?? ''}`)!.sort(newestFirst));
      },
      { cacheKeyFn: (k) => `${k.itemId}|${k.modelId ?? ''}` },
    ),
    assessment: byId('Assessment', (ids) => store.assessmentsByIds(ids)),
    annotationsByAssessment: groupBy(
      (ids) => store.annotationsByOwners('assessment', ids),
      (a) => a.ownerId,
    ),
    userAnnotationsByItem: groupBy(
      (ids) => store.annotationsByOwners('user', ids),
      (a) => a.ownerId,
    ),
    itemsByTarget: byTarget(pageArgsOf, (ids, k) => store.itemPagesByTargets(ids, { type: k.type ?? null }, k)),
    modelsByTarget: byTarget(pageArgsOf, (ids, k) => store.modelPagesByTargets(ids, k)),
    itemCountByTarget: byTarget(typeOf, (ids, k) => store.itemCountsByTargets(ids, { type: k.type ?? null })),
    modelCountByTarget: byTarget(
      () => '',
      (ids) => store.modelCountsByTargets(ids),
    ),
    activeModel: new DataLoader(async (targetIds) => {
      const active = new Map((await store.activeModelsByTargetIds(targetIds)).map((m) => [m.targetId, m]));
      return targetIds.map((id) => active.get(id) ?? null);
    }),
    defaultTarget: new DataLoader((keys) => store.defaultTarget().then((t) => keys.map(() => t))),
    regionSet: new DataLoader(
      async (ids) => {
        const sets = new Map((await store.regionSetsByOwners(ids)).map((s) => [s.ownerId, s]));
        return ids.map((id) => sets.get(id) ?? null);
      },
      // Batched but not cached: setRegions earlier in the request may have changed them.
      { cache: false },
    ),
  };
}
