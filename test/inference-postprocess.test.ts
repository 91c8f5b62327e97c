import { describe, expect, it } from 'vitest';
import { detectionAccuracy, judge } from '../src/runtime/inference/postprocess.ts';

/** A w x h map of zeros with the given cells set. */
function map(w: number, h: number, cells: [number, number, number][]): Float32Array {
  const m = new Float32Array(w * h);
  for (const [x, y, v] of cells) m[y * w + x] = v;
  return m;
}

const params = { threshold: 0.5, ignoreOuter: 0, minDetectedArea: 0 };

describe('post-processing', () => {
  it('joins diagonal neighbours (8-connectivity) and scales boxes to original pixels', () => {
    // 4x4 map of a 400x200 picture: each cell is 100 x 50 pixels.
    const m = map(4, 4, [
      [1, 1, 0.7],
      [2, 2, 0.9],
      [0, 3, 0.6],
    ]);
    const j = judge({ map: m, mapWidth: 4, mapHeight: 4, score: 0.9, width: 400, height: 200 }, params);
    expect(j.result).toBe('BAD');
    expect(j.detectedObjects).toBe(2);
    expect(j.boxes[0]).toMatchObject({ xMin: 100, xMax: 300, yMin: 50, yMax: 150, score: expect.closeTo(0.9, 5), area: 10_000 });
    expect(j.boxes[1]).toMatchObject({ xMin: 0, xMax: 100, yMin: 150, yMax: 200, score: expect.closeTo(0.6, 5) });
  });

  it('grows the box of a faint defect over its whole extent, not only the core that crosses the threshold', () => {
    // 20x20 map of a 200x200 picture (10 px per cell), background 0.1, threshold 0.5: a faint
    // 6x6-cell defect at 0.35 (above halfway from background to threshold) with a 2x2 core at 0.6.
    const cells: [number, number, number][] = [];
    for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) cells.push([x, y, 0.1]);
    for (let y = 8; y < 14; y++) for (let x = 4; x < 10; x++) cells.push([x, y, 0.35]);
    for (const [x, y] of [
      [6, 10],
      [7, 10],
      [6, 11],
      [7, 11],
    ] as const)
      cells.push([x, y, 0.6]);
    const j = judge({ map: map(20, 20, cells), mapWidth: 20, mapHeight: 20, score: 0.6, width: 200, height: 200 }, params);
    expect(j.detectedObjects).toBe(1);
    expect(j.boxes[0]).toMatchObject({ xMin: 40, xMax: 100, yMin: 80, yMax: 140 });
  });

  it('drops regions in the ignored border and smaller than minDetectedArea', () => {
    const m = map(4, 4, [
      [0, 0, 0.9],
      [2, 2, 0.8],
      [3, 2, 0.8],
    ]);
    const input = { map: m, mapWidth: 4, mapHeight: 4, score: 0.9, width: 40, height: 40 };
    const border = judge(input, { ...params, ignoreOuter: 10 });
    // The corner cell (centre at 5,5) is inside the 10 px border; the right cell (centre 35) too.
    expect(border.boxes).toEqual([expect.objectContaining({ xMin: 20, xMax: 30, yMin: 20, yMax: 30 })]);
    const area = judge(input, { ...params, minDetectedArea: 150 });
    expect(area.boxes).toEqual([expect.objectContaining({ xMin: 20, xMax: 40, area: 200 })]);
    // Every region filtered away: the user said those do not count, so GOOD (score kept).
    const none = judge(input, { ...params, minDetectedArea: 1000 });
    expect([none.result, none.detectedObjects, none.score, none.detectionAccuracy]).toEqual(['GOOD', 0, 0.9, 50]);
  });

  it('is GOOD below the threshold and BAD on the score alone when the map has no cell above it', () => {
    const m = map(2, 2, [[0, 0, 0.4]]);
    expect(judge({ map: m, mapWidth: 2, mapHeight: 2, score: 0.4, width: 10, height: 10 }, params).result).toBe('GOOD');
    const scoreOnly = judge({ map: m, mapWidth: 2, mapHeight: 2, score: 0.6, width: 10, height: 10 }, params);
    expect([scoreOnly.result, scoreOnly.detectedObjects]).toEqual(['BAD', 0]);
  });

  it('derives a confidence from the relative distance to the threshold', () => {
    expect(detectionAccuracy(0.5, 0.5)).toBe(50);
    expect(detectionAccuracy(1, 0.5)).toBe(98);
    expect(detectionAccuracy(0, 0.5)).toBe(98);
    expect(detectionAccuracy(0.625, 0.5)).toBe(73);
    expect(detectionAccuracy(0.3, 0)).toBe(77);
  });
});

describe('post-processing of a large map in its own thread (judge-task.ts)', () => {
  it('gives the verdict, boxes and masked map of the main thread', async () => {
    const { Piscina } = await import('piscina');
    const { judgeMap } = await import('../src/runtime/inference/judge-task.ts');
    const { OFF_THREAD_CELLS } = await import('../src/runtime/inference/service.ts');
    // 512 x 512 (past OFF_THREAD_CELLS): background 0.1 with noise, two defects, one of them in
    // the left half that the regions' gain leaves out, the other at sensitivity 1.5.
    const w = 512;
    expect(w * w).toBeGreaterThanOrEqual(OFF_THREAD_CELLS);
    const cells: [number, number, number][] = [];
    for (let i = 0; i < w * w; i++) cells.push([i % w, Math.floor(i / w), 0.1 + ((i * 2654435761) % 97) / 1000]);
    for (let y = 100; y < 130; y++) for (let x = 60; x < 90; x++) cells.push([x, y, 0.8]);
    for (let y = 300; y < 320; y++) for (let x = 400; x < 440; x++) cells.push([x, y, 0.45]);
    const gain = new Float32Array(w * w);
    for (let i = 0; i < w * w; i++) gain[i] = i % w >= w / 2 ? 1.5 : 0;
    const task = () => ({ out: { map: map(w, w, cells), mapWidth: w, mapHeight: w, score: 0.8, width: 2448, height: 2048 }, gain, params });
    const here = judgeMap(task());
    const pool = new Piscina({ filename: new URL('../src/runtime/inference/judge-task.ts', import.meta.url).href, maxThreads: 1 });
    try {
      const t = task();
      const there = await pool.run(t, { transferList: [t.out.map.buffer as ArrayBuffer] });
      expect(here.judgement.result).toBe('BAD');
      expect(here.judgement.detectedObjects).toBe(1); // the left defect is outside the regions
      expect(there.judgement).toEqual(here.judgement);
      expect(Buffer.from(there.out.map.buffer).equals(Buffer.from(here.out.map.buffer))).toBe(true);
    } finally {
      await pool.destroy();
    }
  });
});
