import type { ResultOf } from '../graphql/graphql.ts';
import { PredictionFeed, RecentResults, TrainingFeed } from '../graphql/operations.ts';
import { gql } from '../client/api.ts';
import { subscribe } from '../client/subscribe.ts';
import { notify } from './notices.ts';
import { activeModelId, FEED_LIMIT, models, results, setFeed } from './store.ts';
import type { Result } from './types.ts';

/** The two live feeds: training progress (always, while signed in) and the active model's results. */
let stopPredictionFeed: (() => void) | null = null;
let stopTrainingFeed: (() => void) | null = null;
const TERMINAL = new Set(['READY', 'FAILED', 'CANCELLED']);
const unknownModels = new Set<string>();

export function startTrainingFeed(scheduleReload: () => void) {
  if (stopTrainingFeed) return;
  stopTrainingFeed = subscribe(
    TrainingFeed,
    {},
    {
      onData: (d) => onTrainingProgress(d, scheduleReload),
      onState: (s) => setFeed('training', s),
      onReconnect: scheduleReload,
      onStop: (err) => notify('Live training stopped', err),
      onTrouble: (err) => notify('Live updates interrupted; reconnecting…', err),
    },
  );
}

export function stopFeeds() {
  stopPredictionFeed?.();
  stopTrainingFeed?.();
  stopPredictionFeed = stopTrainingFeed = null;
  setFeed('training', 'off');
  setFeed('results', 'off');
  activeModelId.value = null;
  results.value = [];
}

function onTrainingProgress({ trainingProgress: p }: ResultOf<typeof TrainingFeed>, scheduleReload: () => void) {
  const m = { ...p.model, progress: p.progress, stage: p.stage, status: p.status, statusText: p.message ?? p.model.statusText };
  const i = models.value.findIndex((x) => x.id === m.id);
  if (i < 0) {
    // A model this page has not listed yet (started elsewhere, maybe of another target): look once.
    if (!unknownModels.has(m.id)) {
      unknownModels.add(m.id);
      scheduleReload();
    }
    return;
  }
  models.value = models.value.map((x, k) => (k === i ? m : x));
  if (TERMINAL.has(p.status)) {
    if (p.status === 'READY') notify(`${m.name} finished training`);
    else if (p.status === 'FAILED') notify(`${m.name} failed`, new Error(p.message ?? m.statusText ?? 'training failed'));
    scheduleReload();
  }
}

/** The live results follow the active model: a different one starts a new feed. */
export function followActiveModel() {
  const active = models.value.find((m) => m.active) ?? null;
  const id = active ? active.id : null;
  if (id === activeModelId.value) return;
  activeModelId.value = id;
  stopPredictionFeed?.();
  stopPredictionFeed = null;
  results.value = [];
  if (!id) {
    setFeed('results', 'off');
    return;
  }
  void loadRecent(id);
  stopPredictionFeed = subscribe(
    PredictionFeed,
    { modelId: id },
    {
      onData: ({ predictionResults: r }) => addResult({ ...r.assessment, item: r.item }, true),
      onState: (s) => setFeed('results', s),
      // Results published while disconnected are in the store: fetch them again.
      onReconnect: () => void loadRecent(id),
      onStop: (err) => notify('Live results stopped', err),
      onTrouble: (err) => notify('Live updates interrupted; reconnecting…', err),
    },
  );
}

async function loadRecent(modelId: string) {
  try {
    const { items } = await gql(RecentResults, { modelId });
    if (modelId !== activeModelId.value) return;
    for (const { node } of items.edges) {
      const a = node.assessments[0];
      if (a) addResult({ ...a, item: node }, false);
    }
  } catch (err) {
    notify('Could not load recent results', err);
  }
}

/** A result into the feed, newest first (by when it was stored), at most FEED_LIMIT. */
export function addResult(a: Result, fresh: boolean) {
  if (a.model.id !== activeModelId.value || results.value.some((r) => r.result.id === a.id)) return;
  const list = [...results.value];
  const at = list.findIndex((r) => r.result.createdAt < a.createdAt);
  list.splice(at < 0 ? list.length : at, 0, { result: a, fresh });
  results.value = list.slice(0, FEED_LIMIT);
}
