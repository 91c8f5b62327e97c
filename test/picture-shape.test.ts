import { describe, expect, it } from 'vitest';
import { pictureShapes, shapeProblem } from '../src/runtime/images/picture-shape.ts';

describe('the shapes a model learnt from', () => {
  const frames = pictureShapes([
    { width: 640, height: 480 },
    { width: 800, height: 600 },
  ])!;

  it("is the range of the training pictures' width/height and shorter side", () => {
    expect(frames).toEqual({ aspect: [1.333, 1.333], shortSide: [480, 600] });
    expect(pictureShapes([])).toBeUndefined();
  });

  it('takes the same camera, another resolution, and the camera turned by 90° (4:3 against 3:4)', () => {
    for (const [width, height] of [
      [640, 480],
      [2448, 2048],
      [480, 640],
      [1920, 1080],
      [200, 150],
    ])
      expect(shapeProblem(frames, { name: 'p.jpg', width: width!, height: height! }), `${width}x${height}`).toBeNull();
  });

  it('refuses a strip or a thumbnail, saying what the model learnt from; a model without the record takes anything', () => {
    expect(shapeProblem(frames, { name: 'strip.png', width: 20000, height: 20 })).toBe(
      'picture "strip.png" (20000x20, width/height 1000) is too unlike in shape to be judged: the model learnt from pictures of width/height 1.33 and at least 480 px on the shorter side; stretched to its input it would be judged beyond recognition (crop it, or train with such pictures)',
    );
    expect(shapeProblem(frames, { name: 'tall.png', width: 100, height: 400 })).toMatch(
      /^picture "tall.png" \(100x400, width\/height 0.25\) is too unlike in shape/,
    );
    expect(shapeProblem(frames, { name: 'thumb.png', width: 100, height: 75 })).toMatch(/^picture "thumb.png" \(100x75\) is too small to be judged/);
    expect(shapeProblem(undefined, { name: 'strip.png', width: 20000, height: 20 })).toBeNull();
  });
});
