import { AddToTraining, AnnotateItem } from '../graphql/operations.ts';
import { gql } from '../client/api.ts';
import { can } from '../client/session.ts';
import { scheduleReload } from './load.ts';
import { activeModelId, results, retrainOffered, reviewed } from './store.ts';
import type { Result } from './types.ts';

/** A box drawn (or kept) in review: pixels of the original picture. */
export interface DrawnBox {
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
}

/**
 * Review: the result's picture becomes a labelled training picture of its target (OK confirms a
 * GOOD verdict, NG a BAD one; the other way round corrects it). With `boxes`, the training
 * picture keeps them as its annotations (where the defects are).
 */
export async function reviewInto(a: Result, good: boolean, boxes: DrawnBox[] | null = null) {
  const {
    addToTraining: [copy],
  } = await gql(AddToTraining, { itemIds: [a.item.id], good });
  if (boxes && copy) await gql(AnnotateItem, { id: copy.id, good, annotations: boxes });
  const agrees = good === (a.result === 'GOOD');
  const withBoxes = boxes ? ` with ${boxes.length} box${boxes.length === 1 ? '' : 'es'}` : '';
  const text = `Added to training as ${good ? 'OK' : 'NG'}${agrees ? '' : ' (corrected)'}${withBoxes}`;
  results.value = results.value.map((r) => (r.result.id === a.id ? { ...r, reviewed: { text, agrees } } : r));
  reviewed.value++;
  retrainOffered.value = can('TRAIN') && !!activeModelId.value;
  scheduleReload();
}
