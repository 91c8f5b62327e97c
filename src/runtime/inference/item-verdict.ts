import { HEATMAP_NAME } from '../images/heatmap.ts';
import type { Judgement } from './postprocess.ts';

/**
 * An item's verdict from the verdicts of all its pictures (a part photographed from several
 * sides): BAD when any picture is BAD. The deciding picture, whose score and confidence the
 * item gets, is the highest-scoring BAD picture, else the highest-scoring one. Every BAD
 * picture's boxes count; on an item of several pictures each box's `notes` names its picture.
 */
export interface PictureVerdict {
  /** The picture's name on the item (its ImageRecord name) and its place among the item's pictures. */
  name: string;
  index: number;
  judgement: Judgement;
}

export interface ItemVerdict {
  result: Judgement['result'];
  score: number;
  threshold: number;
  detectionAccuracy: number;
  detectedObjects: number;
  boxes: (Judgement['boxes'][number] & { notes: string | null })[];
}

export function itemVerdict(pictures: readonly PictureVerdict[]): ItemVerdict {
  if (pictures.length === 0) throw new Error('an item verdict needs at least one picture');
  const bad = pictures.filter((p) => p.judgement.result === 'BAD');
  const pool = bad.length > 0 ? bad : pictures;
  const deciding = pool.reduce((a, b) => (b.judgement.score > a.judgement.score ? b : a));
  const several = pictures.length > 1;
  const boxes = pictures.flatMap((p) => p.judgement.boxes.map((b) => ({ ...b, notes: several ? `picture ${p.index + 1}: ${p.name}` : null })));
  boxes.sort((a, b) => b.score - a.score);
  return {
    result: deciding.judgement.result,
    score: deciding.judgement.score,
    threshold: deciding.judgement.threshold,
    detectionAccuracy: deciding.judgement.detectionAccuracy,
    detectedObjects: boxes.length,
    boxes,
  };
}

/** Name of the heatmap overlay of an item's `index`-th picture: heatmap.png, heatmap-2.png, … */
export const heatmapName = (index: number): string => (index === 0 ? HEATMAP_NAME : HEATMAP_NAME.replace(/\.png$/, `-${index + 1}.png`));
export const isHeatmapName = (name: string): boolean => /^heatmap(-\d+)?\.png$/.test(name);
