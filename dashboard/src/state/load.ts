import type { ResultOf } from '../graphql/graphql.ts';
import { TargetView, Targets, TrainingItems } from '../graphql/operations.ts';
import { gql } from '../client/api.ts';
import { session } from '../client/session.ts';
import { followActiveModel } from './live.ts';
import { notify } from './notices.ts';
import { algorithms, models, selected, target, targets, training } from './store.ts';
import type { TargetData } from './types.ts';

export const TARGET_KEY = 'spectro.dashboard.target';
let reloadTimer: ReturnType<typeof setTimeout> | undefined;

/** Everything of the chosen target, from the gateway: its models, activations and training pictures. */
export async function reload() {
  let data: TargetData | null;
  try {
    const t0 = await gql(Targets, {});
    targets.value = t0.targets;
    algorithms.value = t0.algorithms;
    const wanted = localStorage.getItem(TARGET_KEY);
    const t = t0.targets.find((x) => x.id === wanted) ?? t0.targets.find((x) => x.isDefault) ?? t0.targets[0] ?? null;
    data = t ? (await gql(TargetView, { id: t.id })).target : null;
  } catch (err) {
    if (session.value) notify('Could not load the dashboard', err);
    return;
  }
  const items: { id: string; good: boolean | null }[] = [];
  let total = 0;
  if (data) {
    // Every page (a query of its own, within the gateway's cost limit): the counts are exact
    // and the threshold preview uses every labelled picture.
    let after: string | null = null;
    do {
      let page: NonNullable<ResultOf<typeof TrainingItems>['target']>['trainingItems'] | undefined;
      try {
        const r: ResultOf<typeof TrainingItems> = await gql(TrainingItems, { id: data.id, after });
        page = r.target?.trainingItems;
      } catch (err) {
        notify('Could not count the training pictures', err);
        break;
      }
      if (!page) break;
      total = page.totalCount;
      items.push(...page.edges.map((e) => e.node));
      after = page.pageInfo.hasNextPage ? (page.pageInfo.endCursor ?? null) : null;
    } while (after && items.length < 5000);
  }
  const labelled = items.filter((i) => i.good != null);
  target.value = data ?? null;
  models.value = data ? data.models.edges.map((e) => e.node) : [];
  training.value = { ok: labelled.filter((i) => i.good).length, ng: labelled.filter((i) => !i.good).length, total, labelled };
  // Ticked models that are gone (or no longer READY) are not exported.
  const ready = new Set(models.value.filter((m) => m.status === 'READY').map((m) => m.id));
  if ([...selected.value].some((id) => !ready.has(id))) selected.value = new Set([...selected.value].filter((id) => ready.has(id)));
  followActiveModel();
}

export function scheduleReload() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => void reload(), 300);
}
