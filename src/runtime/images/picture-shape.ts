import type { PictureShapes } from '../onnx/contract.ts';

/** How far a picture's width / height may be from the training pictures' (a factor either way). */
export const ASPECT_TOLERANCE = 2;
/** How much smaller its shorter side may be than the smallest training picture's. */
export const SIZE_TOLERANCE = 4;

/** The range of shapes of some pictures (the training pictures of a model). */
export function pictureShapes(pictures: readonly { width: number; height: number }[]): PictureShapes | undefined {
  if (pictures.length === 0) return undefined;
  const aspects = pictures.map((p) => p.width / p.height);
  const sides = pictures.map((p) => Math.min(p.width, p.height));
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return { aspect: [round(Math.min(...aspects)), round(Math.max(...aspects))], shortSide: [Math.min(...sides), Math.max(...sides)] };
}

/**
 * Why a picture cannot be judged by a model that learnt from pictures of `shapes`, or null when
 * it can. Within a factor of ASPECT_TOLERANCE of the training aspects (a camera turned by 90°
 * still passes: 4:3 against 3:4 is 1.78) and no more than SIZE_TOLERANCE times smaller.
 */
export function shapeProblem(shapes: PictureShapes | undefined, picture: { name: string; width: number; height: number }): string | null {
  if (!shapes) return null;
  const aspect = picture.width / picture.height;
  const [lo, hi] = shapes.aspect;
  const learnt = `the model learnt from pictures of width/height ${fmt(lo)}${hi !== lo ? ` to ${fmt(hi)}` : ''} and at least ${shapes.shortSide[0]} px on the shorter side`;
  if (aspect < lo / ASPECT_TOLERANCE || aspect > hi * ASPECT_TOLERANCE) {
    return `picture "${picture.name}" (${picture.width}x${picture.height}, width/height ${fmt(aspect)}) is too unlike in shape to be judged: ${learnt}; stretched to its input it would be judged beyond recognition (crop it, or train with such pictures)`;
  }
  if (Math.min(picture.width, picture.height) * SIZE_TOLERANCE < shapes.shortSide[0]) {
    return `picture "${picture.name}" (${picture.width}x${picture.height}) is too small to be judged: ${learnt}`;
  }
  return null;
}

const fmt = (v: number) => (v >= 10 ? String(Math.round(v)) : v < 0.1 ? v.toPrecision(2) : v.toFixed(2));
