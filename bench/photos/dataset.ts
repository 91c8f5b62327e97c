import { rng } from '../../src/runtime/training/algorithms/random.ts';
import { ensurePhotos } from './fetch.ts';
import { CONTRASTS, DEFECT_KINDS, DEFECT_SIZES, type DefectSpec, type GroundTruth, paintDefect } from './paint.ts';
import { type Picture, clonePicture, crop, emptyPicture, encodeJpeg, gauss, readPicture, resizePicture, sample } from './picture.ts';
import { PHOTO_SOURCES, type PartSource, type PhotoSource, type TextureSource } from './sources.ts';

/**
 * Benchmark pictures made from the real photographs of sources.ts: training OK pictures, test OK
 * pictures and test NG pictures (one painted defect each, with its pixel mask), delivered as JPEG
 * as a camera would. Deterministic for a seed.
 */

export interface BenchPicture {
  width: number;
  height: number;
  jpeg: Buffer;
  /** 1 where a defect is; all zeros for OK pictures. */
  mask: Uint8Array;
  defects: GroundTruth[];
}

export interface CategorySet {
  category: string;
  family: 'texture' | 'part';
  source: PhotoSource;
  trainOk: BenchPicture[];
  testOk: BenchPicture[];
  testNg: BenchPicture[];
}

export interface SetOptions {
  trainOk: number;
  testOk: number;
  testNg: number;
  seed: number;
  /** Texture picture side (pixels). */
  textureSize?: number;
  /** Parts at the photograph's full region resolution (the camera-size set). */
  cameraSize?: boolean;
}

const hash = (...xs: number[]) => xs.reduce((h, x) => (Math.imul(h ^ (x | 0), 0x9e3779b1) + 0x7f4a7c15) >>> 0, 0x2545f491);
const textHash = (s: string) => [...s].reduce((h, c) => hash(h, c.charCodeAt(0)), 7);

/** The NG pictures' defects: every kind with every contrast, sizes rotating, kinds changing fastest. */
export function defectPlan(n: number): DefectSpec[] {
  return Array.from({ length: n }, (_, i) => {
    const round = Math.floor(i / DEFECT_KINDS.length);
    return {
      kind: DEFECT_KINDS[i % DEFECT_KINDS.length]!,
      size: DEFECT_SIZES[round % DEFECT_SIZES.length]!,
      contrast: CONTRASTS[(round + Math.floor(round / DEFECT_SIZES.length)) % CONTRASTS.length]!,
    };
  });
}

const photoCache = new Map<string, Promise<Picture>>();
function loadSource(src: PhotoSource): Promise<Picture> {
  const key = `${src.package}:${src.path}`;
  let p = photoCache.get(key);
  if (!p) {
    const [file] = ensurePhotos([src], (l) => console.error(l));
    p = readPicture(file!, { region: src.region });
    photoCache.set(key, p);
  }
  return p;
}

/** Lighting as a fixture or a line sees it change: gain, a gentle gradient, colour temperature. */
function relight(p: Picture, r: () => number, strength: number) {
  const plane = p.width * p.height;
  const gain = 1 + (r() - 0.5) * 0.2 * strength;
  const slope = (r() - 0.5) * 0.12 * strength;
  const dir = r() * 2 * Math.PI;
  const temp = [(r() - 0.5) * 0.04, 0, (r() - 0.5) * 0.04].map((t) => 1 + t * strength);
  for (let y = 0; y < p.height; y++)
    for (let x = 0; x < p.width; x++) {
      const g = gain * (1 + slope * (((x / p.width - 0.5) * Math.cos(dir) + (y / p.height - 0.5) * Math.sin(dir)) * 2));
      for (let c = 0; c < 3; c++) p.rgb[c * plane + y * p.width + x]! *= g * temp[c]!;
    }
}

/** Sensor noise (a little more in the dark, as shot noise goes). */
function addNoise(p: Picture, r: () => number, sigma: number) {
  const plane = p.width * p.height;
  for (let i = 0; i < plane; i++) {
    const n = gauss(r) * sigma;
    for (let c = 0; c < 3; c++) p.rgb[c * plane + i]! += n * (0.7 + 0.3 * (1 - p.rgb[c * plane + i]!)) + gauss(r) * sigma * 0.3;
  }
}

async function finish(p: Picture, r: () => number, spec: DefectSpec | null, foreign: Picture, family: 'texture' | 'part'): Promise<BenchPicture> {
  let mask: Uint8Array = new Uint8Array(p.width * p.height);
  const defects: GroundTruth[] = [];
  if (spec) {
    const painted = paintDefect(p, spec, r, { foreign, margin: family === 'part' ? 0.12 : 0, structured: family === 'part' });
    mask = painted.mask;
    if (painted.truth) defects.push(painted.truth);
  }
  addNoise(p, r, 1.6 / 255);
  return { width: p.width, height: p.height, jpeg: await encodeJpeg(p), mask, defects };
}

/**
 * Train and test crops come from different blocks of the photograph, laid out like a
 * checkerboard (blocks at least 1.25 crops wide), so neither side sees a pixel of the other,
 * and a photograph that changes across its width (focus, light) changes both sides alike.
 */
function blocks(photo: Picture, crop: number) {
  const nx = Math.max(1, Math.min(4, Math.floor(photo.width / (1.25 * crop))));
  const ny = Math.max(1, Math.min(4, Math.floor(photo.height / (1.25 * crop))));
  const all = Array.from({ length: nx * ny }, (_, k) => {
    const i = k % nx;
    const j = Math.floor(k / nx);
    const x0 = Math.floor((i * photo.width) / nx);
    const y0 = Math.floor((j * photo.height) / ny);
    return { part: (i + j) % 2 === 0 ? 'train' : 'test', x0, y0, x1: Math.floor(((i + 1) * photo.width) / nx), y1: Math.floor(((j + 1) * photo.height) / ny) };
  });
  if (!all.some((b) => b.part === 'test'))
    throw new Error(`the photograph (${photo.width}x${photo.height}) is too small for train and test crops of ${crop} px`);
  return all;
}

/** The k-th crop of a texture for training or testing, resized to the picture size. */
async function textureCrop(src: TextureSource, photo: Picture, part: 'train' | 'test', k: number, r: () => number, size: number): Promise<Picture> {
  const mine = blocks(photo, src.crop).filter((b) => b.part === part);
  const b = mine[k % mine.length]!;
  const x = b.x0 + Math.floor(r() * (b.x1 - b.x0 - src.crop + 1));
  const y = b.y0 + Math.floor(r() * (b.y1 - b.y0 - src.crop + 1));
  const c = crop(photo, x, y, src.crop, src.crop);
  return src.crop === size ? c : resizePicture(c, size, size);
}

/** The part in the fixture: shifted up to ±3 px and turned up to ±2° (picture pixels), at the picture size. */
async function partShot(_src: PartSource, photo: Picture, r: () => number, width: number, height: number): Promise<Picture> {
  // warp at the photograph's resolution (or twice the picture's, whichever is smaller), then resize
  const work = Math.min(photo.width / width, 2);
  const ww = Math.round(width * work);
  const wh = Math.round(height * work);
  const base = work === photo.width / width ? photo : await resizePicture(photo, ww, wh);
  const angle = ((r() - 0.5) * 4 * Math.PI) / 180;
  const dx = (r() - 0.5) * 6 * (ww / width);
  const dy = (r() - 0.5) * 6 * (wh / height);
  const out = emptyPicture(ww, wh);
  const plane = ww * wh;
  const [cx, cy] = [ww / 2, wh / 2];
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  for (let y = 0; y < wh; y++)
    for (let x = 0; x < ww; x++) {
      // inverse map: where in the photograph this picture pixel looks
      const u = x + 0.5 - cx - dx;
      const v = y + 0.5 - cy - dy;
      const sx = cx + u * cos + v * sin;
      const sy = cy - u * sin + v * cos;
      for (let c = 0; c < 3; c++) out.rgb[c * plane + y * ww + x] = sample(base, c, sx * (base.width / ww), sy * (base.height / wh));
    }
  return ww === width && wh === height ? out : resizePicture(out, width, height);
}

export async function buildSet(category: string, opts: SetOptions): Promise<CategorySet> {
  const src = PHOTO_SOURCES.find((s) => s.category === category);
  if (!src) throw new Error(`unknown category ${category}; known: ${PHOTO_SOURCES.map((s) => s.category).join(', ')}`);
  const photo = await loadSource(src);
  // foreign matter comes from another material: the next texture in the catalogue
  const textures = PHOTO_SOURCES.filter((s): s is TextureSource => s.family === 'texture');
  const other = textures[(textures.findIndex((s) => s.category === category) + 1 + textures.length) % textures.length]!;
  const foreign = await loadSource(other);
  const seed = hash(opts.seed, textHash(category), opts.cameraSize ? 5 : 1);
  const size = opts.textureSize ?? 256;

  const shoot = async (part: 'train' | 'test', k: number, spec: DefectSpec | null) => {
    const r = rng(hash(seed, part === 'train' ? 1 : spec ? 3 : 2, k));
    let p: Picture;
    if (src.family === 'texture') {
      p = await textureCrop(src, photo, part, k, r, size);
      relight(p, r, 0.6);
    } else {
      const [w, h] = opts.cameraSize ? [photo.width, photo.height] : [src.width, src.height];
      p = await partShot(src, photo, r, w, h);
      relight(p, r, 1);
    }
    return finish(clonePicture(p), r, spec, foreign, src.family);
  };
  const plan = defectPlan(opts.testNg);
  return {
    category,
    family: src.family,
    source: src,
    trainOk: await Promise.all(Array.from({ length: opts.trainOk }, (_, k) => shoot('train', k, null))),
    testOk: await Promise.all(Array.from({ length: opts.testOk }, (_, k) => shoot('test', k, null))),
    testNg: await Promise.all(plan.map((spec, k) => shoot('test', k, spec))),
  };
}
