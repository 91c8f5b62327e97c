import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';
import type { FormatEnum, Metadata, Sharp } from 'sharp';
import type { Config } from '../../config.ts';
import { AppError, ErrorCode } from '../../errors.ts';
import { CONTROL_CHARACTERS, visible } from '../store/names.ts';
import type { BlobStore, NewImage } from '../store/store.ts';

/** Decoded format -> content type. Anything else sharp can read (SVG, HEIF, PDF…) is refused. */
export const ACCEPTED_FORMATS: Readonly<Record<string, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  tiff: 'image/tiff',
  gif: 'image/gif',
};
const ACCEPTED_NAMES = 'JPEG, PNG, WebP, TIFF, GIF';

export interface IngestResult {
  images: NewImage[];
  /** Removes the blobs this call added that no row refers to. Call it when the DB write fails. */
  rollback(): Promise<void>;
}

interface Staged {
  name: string;
  file: string;
  width: number;
  height: number;
  contentType: string;
}

const tooLarge = (message: string, file: string, extra: Record<string, unknown> = {}) => new AppError(ErrorCode.PAYLOAD_TOO_LARGE, message, { file, ...extra });
const unsupported = (message: string, file: string) => new AppError(ErrorCode.UNSUPPORTED_MEDIA, message, { file });

/** Browsers send a bare name, other clients sometimes a path; keep only the last segment. */
const cleanName = (name: string | undefined, index: number) => {
  const base = (name ?? '').split(/[\\/]/).pop()?.trim();
  return base ? base.slice(0, 255) : `image-${index + 1}`;
};

/** Copies the upload to disk, refusing it as soon as it grows past the limit. */
async function stage(file: File, dest: string, name: string, maxBytes: number): Promise<number> {
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) done(tooLarge(`file "${name}" is larger than ${maxBytes} bytes`, name, { limit: maxBytes }));
      else done(null, chunk);
    },
  });
  await pipeline(Readable.from(chunksOf(file)), counter, createWriteStream(dest, { flags: 'wx' }));
  return size;
}

/**
 * Yoga hands out @whatwg-node ponyfill Files whose streams are not Node's web streams
 * (`Readable.fromWeb` refuses them), so read through the standard reader interface.
 */
async function* chunksOf(file: File): AsyncGenerator<Uint8Array> {
  const reader = file.stream().getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value) yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Checks that the staged file is a whole image of an accepted format and within the pixel
 * limit; writes an auto-oriented copy when EXIF says it is rotated or mirrored.
 */
async function decode(src: string, name: string, maxPixels: number): Promise<Omit<Staged, 'name'>> {
  const open = (failOn: 'error' | 'warning' = 'error') => sharp(src, { limitInputPixels: maxPixels, failOn });
  let meta: Metadata;
  try {
    // Reads the header only; the pixel limit is enforced here, before anything is decoded.
    meta = await open().metadata();
  } catch (err) {
    const msg = (err as Error).message ?? '';
    if (/pixel limit/i.test(msg)) throw tooLarge(`image "${name}" has more than ${maxPixels} pixels`, name, { limit: maxPixels });
    if (/unsupported image format/i.test(msg)) throw unsupported(`file "${name}" is not an image of a format read here (${ACCEPTED_NAMES})`, name);
    throw unsupported(`image "${name}" is corrupt or truncated`, name);
  }
  const contentType = meta.format ? ACCEPTED_FORMATS[meta.format] : undefined;
  if (!contentType) {
    throw unsupported(`file "${name}" is ${meta.format ?? 'of an unknown format'}; accepted: ${ACCEPTED_NAMES}`, name);
  }
  try {
    await wholeImage(open);
  } catch {
    throw unsupported(`image "${name}" is corrupt or truncated`, name);
  }
  if ((meta.orientation ?? 1) <= 1) return { file: src, width: meta.width!, height: meta.height!, contentType };
  const out = `${src}.oriented`;
  try {
    const info = await open()
      .rotate()
      .toFormat(meta.format as keyof FormatEnum, meta.format === 'jpeg' ? { quality: 95 } : {})
      .toFile(out);
    await fsp.rm(src, { force: true });
    return { file: out, width: info.width, height: info.height, contentType };
  } catch {
    await fsp.rm(out, { force: true });
    throw unsupported(`image "${name}" is corrupt or truncated`, name);
  }
}

/** What libjpeg and libpng say of data cut short or damaged (warnings, not errors, to libvips). */
const DAMAGED = /premature end|not enough data|truncat|corrupt jpeg data: (?!\d+ extraneous bytes)/i;

/**
 * Decodes every pixel, so that a half-received camera frame is refused rather than judged: a JPEG
 * cut short with its end marker decodes with grey rows and only a warning, an interlaced PNG cut
 * short passes a streaming read and fails only when decoded whole. Harmless warnings (bytes
 * between JPEG markers, odd colour profiles) do not refuse a picture.
 */
async function wholeImage(open: (failOn?: 'error' | 'warning') => Sharp): Promise<void> {
  try {
    await open('warning').raw({ depth: 'uchar' }).toBuffer();
  } catch (err) {
    if (DAMAGED.test((err as Error).message ?? '')) throw err;
    await open('error').raw({ depth: 'uchar' }).toBuffer();
  }
}

/**
 * Validates every upload (count, size, format, integrity, pixels) before any of them reaches
 * the blob store, so one bad file stores nothing. Files are staged on disk one after another to
 * keep memory flat. The returned blobs are held (see PutOptions.hold) until the caller's
 * `addItems` commits or `rollback()` runs.
 */
export async function ingestImages(files: File[], opts: { blobs: BlobStore; limits: Config['upload']; tmpDir?: string }): Promise<IngestResult> {
  const { blobs, limits } = opts;
  if (files.length > limits.maxFiles) {
    throw new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `at most ${limits.maxFiles} files per request (got ${files.length})`, {
      limit: limits.maxFiles,
    });
  }
  const tmpDir = opts.tmpDir ?? blobs.tmpDir;
  await fsp.mkdir(tmpDir, { recursive: true });
  const batch = randomBytes(8).toString('hex');
  const staged: Staged[] = [];
  const cleanup = () => Promise.all(staged.map((s) => fsp.rm(s.file, { force: true })));

  try {
    for (const [i, file] of files.entries()) {
      const name = cleanName(file.name, i);
      // The file's name becomes the item's: no NUL, line breaks or escapes (names.ts).
      if (CONTROL_CHARACTERS.test(name)) {
        throw new AppError(ErrorCode.BAD_USER_INPUT, `file "${visible(name)}": a name must not contain control characters (NUL, line breaks, escapes)`, {
          file: visible(name),
          index: i,
        });
      }
      if (file.size > limits.maxFileBytes) {
        throw tooLarge(`file "${name}" is larger than ${limits.maxFileBytes} bytes`, name, { limit: limits.maxFileBytes });
      }
      if (file.size === 0) throw unsupported(`file "${name}" is empty`, name);
      const src = path.join(tmpDir, `upload-${batch}-${i}`);
      const entry: Staged = { name, file: src, width: 0, height: 0, contentType: '' };
      staged.push(entry);
      await stage(file, src, name, limits.maxFileBytes);
      Object.assign(entry, await decode(src, name, limits.maxPixels));
    }
  } catch (err) {
    await cleanup();
    throw err;
  }

  const images: NewImage[] = [];
  const held: string[] = [];
  // Every blob this call put, not only those it created: when a concurrent upload of the same
  // bytes created it and rolled back first, the last one out removes it. A blob some row uses,
  // or another request still holds, stays.
  const rollback = async () => {
    const keys = held.splice(0);
    blobs.release(keys);
    await blobs.deleteUnreferenced(keys);
  };
  try {
    for (const s of staged) {
      const { key, size } = await blobs.putFile(s.file, { hold: true });
      held.push(key);
      images.push({ name: s.name, blob: key, width: s.width, height: s.height, fileSize: size, contentType: s.contentType });
    }
  } catch (err) {
    await cleanup();
    await rollback();
    throw err;
  }
  return { images, rollback };
}
