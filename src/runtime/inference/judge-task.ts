import { Piscina } from 'piscina';
import type { PredictParameters } from '../store/types.ts';
import { judge, type Judgement, type MapInput } from './postprocess.ts';
import { maskMap } from './regions.ts';

/**
 * Post-processing of one large anomaly map (a tiled picture's stitched map: a million cells and
 * more) in a thread of its own: masking by the regions and `judge` are linear in the map and took
 * 85-460 ms of the main thread per 5 MP picture, during which no other request was served. The
 * same functions as on the main thread, so the verdict, boxes and masked map are the same.
 */
export interface JudgeTask {
  out: MapInput;
  /** The regions' per-cell gain (RegionMasks); null: no regions. */
  gain: Float32Array | null;
  params: PredictParameters;
}

export interface JudgedMap {
  /** The map as judged (masked when there are regions): kept for the heatmap. */
  out: MapInput;
  judgement: Judgement;
}

/** The work itself, on whichever thread calls it. */
export function judgeMap(task: JudgeTask): JudgedMap {
  const out = task.gain ? { ...task.out, ...maskMap(task.out.map, task.gain, task.params.threshold) } : task.out;
  return { out, judgement: judge(out, task.params) };
}

export default function run(task: JudgeTask): JudgedMap {
  const r = judgeMap(task);
  return Piscina.move({ [Piscina.transferableSymbol]: [r.out.map.buffer], [Piscina.valueSymbol]: r } as never) as unknown as JudgedMap;
}
