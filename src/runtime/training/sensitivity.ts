import type { SensitivityCell } from '../store/types.ts';
import { rng } from './algorithms/random.ts';
import { mapDims } from './ort.ts';
import { clamp01, greyStats, type PixelBox, paintProbe, SENSITIVITY_GRID } from './synthetic-defects.ts';

/** Probes per painted picture: one in each quarter, so they neither touch nor hide each other. */
const PER_TENSOR = 4;
/** About two probes per held-out picture, 4 to 8 per grid cell. */
const PER_PICTURE = 2;
export const PER_CELL = { min: 4, max: 8 };

/** One probe: its grid cell and where it was painted. */
export interface Probe {
  cell: number;
  box: PixelBox;
}

/**
 * What a trained model catches on the user's own pictures: every cell of the sensitivity grid
 * (synthetic-defects.ts) painted into held-out OK pictures and judged by the fold model that never
 * saw them. A probe's score is the highest value of the anomaly map on it, so a probe counts as
 * caught at a threshold only where the map would draw a box on it (not because the picture scored
 * high elsewhere). The scores are kept, not a verdict, so the catch rate can be read at any
 * threshold (the shipped one, or one a user tries before setting it).
 *
 * Four probes share a picture, one per quarter: 48 to 96 probes cost 12 to 24 more model runs
 * in a training, spread over the folds in proportion to their pictures and judged in the same
 * session as the fold's own pictures.
 */
export class SensitivityProbes {
  private readonly count: number;
  private readonly total: number;
  private seen = 0;
  private issued = 0;
  private readonly scores: number[][] = SENSITIVITY_GRID.map(() => []);

  /** `total`: the held-out tensors of all folds together. */
  constructor(total: number) {
    this.total = Math.max(1, total);
    const perCell = Math.min(PER_CELL.max, Math.max(PER_CELL.min, Math.round((PER_PICTURE * total) / SENSITIVITY_GRID.length)));
    this.count = SENSITIVITY_GRID.length * perCell;
  }

  /** One fold's share: copies of its held-out tensors with up to four probes each. */
  forFold(
    held: readonly Float32Array[],
    dims: { channels: number; height: number; width: number },
    fold: number,
  ): { probes: Probe[][]; tensors: Float32Array[] } {
    this.seen += held.length;
    const upTo = Math.round((this.count * Math.min(this.seen, this.total)) / this.total);
    const r = rng(101 + fold);
    const windows = quarters(dims.width, dims.height);
    const probes: Probe[][] = [];
    const tensors: Float32Array[] = [];
    for (let j = 0; this.issued < upTo && held.length > 0; j++) {
      const base = held[j % held.length]!;
      const picture = greyStats(base, dims);
      const t = base.slice();
      const here: Probe[] = [];
      for (let q = 0; q < PER_TENSOR && this.issued < upTo; q++, this.issued++) {
        const cell = this.issued % SENSITIVITY_GRID.length;
        here.push({ cell, box: paintProbe(t, dims, SENSITIVITY_GRID[cell]!, windows[q]!, picture, r) });
      }
      clamp01(t);
      probes.push(here);
      tensors.push(t);
    }
    return { probes, tensors };
  }

  /** Each probe's score from its picture's anomaly map (any resolution; input pixels scaled to it). */
  record(probes: readonly Probe[][], maps: readonly Float32Array[], input: { width: number; height: number }): void {
    probes.forEach((list, i) => {
      const map = maps[i]!;
      const { mapWidth: mw, mapHeight: mh } = mapDims(map.length, input);
      for (const { cell, box } of list) {
        const [x0, x1] = mapSpan(box.x0, box.x1, mw, input.width);
        const [y0, y1] = mapSpan(box.y0, box.y1, mh, input.height);
        let top = Number.NEGATIVE_INFINITY;
        for (let y = y0; y < Math.min(mh, y1); y++) for (let x = x0; x < Math.min(mw, x1); x++) top = Math.max(top, map[y * mw + x]!);
        this.scores[cell]!.push(Math.round(top * 1e4) / 1e4);
      }
    });
  }

  result(): SensitivityCell[] {
    return SENSITIVITY_GRID.map((g, i) => ({ ...g, scores: this.scores[i]! })).filter((c) => c.scores.length > 0);
  }
}

/** The picture's four quarters, top left to bottom right (odd sizes give the extra pixel to the right and bottom). */
function quarters(w: number, h: number): PixelBox[] {
  const [hw, hh] = [Math.floor(w / 2), Math.floor(h / 2)];
  return [
    { x0: 0, y0: 0, x1: hw, y1: hh },
    { x0: hw, y0: 0, x1: w, y1: hh },
    { x0: 0, y0: hh, x1: hw, y1: h },
    { x0: hw, y0: hh, x1: w, y1: h },
  ];
}

/** Map cells [from, to) covering input pixels [lo, hi) (`cells` across `pixels`): at least one. */
function mapSpan(lo: number, hi: number, cells: number, pixels: number): [number, number] {
  const from = Math.floor((lo * cells) / pixels);
  return [from, Math.max(from + 1, Math.ceil((hi * cells) / pixels))];
}
