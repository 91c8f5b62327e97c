import { ScoreLabelled } from '../graphql/operations.ts';
import { gql } from '../client/api.ts';
import { training } from '../state/store.ts';
import type { Model } from '../state/types.ts';

export interface Score {
  score: number;
  good: boolean | null;
}

/** The model's score of every labelled training picture (judged now; nothing stored, nothing sent to the line). */
export async function scoresOf(m: Model): Promise<Score[]> {
  const labelled = training.value.labelled;
  if (!labelled.length) throw new Error('there are no labelled training pictures (add OK and NG pictures) to measure on');
  const out: Score[] = [];
  for (let i = 0; i < labelled.length; i += 100) {
    const { scoreItems } = await gql(ScoreLabelled, { modelId: m.id, itemIds: labelled.slice(i, i + 100).map((x) => x.id) });
    out.push(...scoreItems.map((a) => ({ score: a.score, good: a.item.good })));
  }
  return out;
}

export interface Confusion {
  okPass: number;
  okReject: number;
  ngCaught: number;
  ngMissed: number;
}

/** Counts at a threshold: a score above it is judged BAD (NG). */
export function confusion(scores: Score[], threshold: number): Confusion {
  const c = { okPass: 0, okReject: 0, ngCaught: 0, ngMissed: 0 };
  for (const s of scores) {
    const bad = s.score > threshold;
    if (s.good) bad ? c.okReject++ : c.okPass++;
    else bad ? c.ngCaught++ : c.ngMissed++;
  }
  return c;
}

/** Area under the ROC curve: how often an NG picture scores above an OK one (ties half). */
export function auroc(scores: Score[]): number | null {
  const ok = scores.filter((s) => s.good).map((s) => s.score);
  const ng = scores.filter((s) => !s.good).map((s) => s.score);
  if (!ok.length || !ng.length) return null;
  let wins = 0;
  for (const n of ng) for (const o of ok) wins += n > o ? 1 : n === o ? 0.5 : 0;
  return wins / (ok.length * ng.length);
}

/** One cell of a model's sensitivity grid: synthetic defects painted into held-out OK pictures. */
export interface Probe {
  kind: 'SPOT' | 'LINE';
  size: number;
  contrast: number;
  scores: number[];
}

/** How many of a cell's probes a threshold catches (the gateway's rule: BAD at or above it). */
export const caught = (p: Probe, threshold: number) => p.scores.filter((s) => s >= threshold).length;
