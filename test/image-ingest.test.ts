import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { File as PonyfillFile } from '@whatwg-node/node-fetch';
import sharp from 'sharp';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../src/config.ts';
import { AppError } from '../src/errors.ts';
import { ingestImages } from '../src/runtime/images/ingest.ts';
import { createStore, type LocalStore } from '../src/runtime/store/index.ts';

const limits: Config['upload'] = { maxFileBytes: 1024 * 1024, maxFiles: 25, maxPixels: 1_000_000 };
let dir: string;
let store: LocalStore;
let png: Buffer;
let jpeg: Buffer;

const solid = (w: number, h: number, r: number) => sharp({ create: { width: w, height: h, channels: 3, background: { r, g: 255 - r, b: 80 } } });

beforeAll(async () => {
  png = await solid(32, 24, 10).png().toBuffer();
  jpeg = await solid(30, 20, 200).jpeg().toBuffer();
});
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-test-'));
  store = await createStore({ dataDir: dir });
});
afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const file = (data: Uint8Array, name: string, type = '') => new File([new Uint8Array(data)], name, { type });
const blobCount = () => fs.readdirSync(path.join(dir, 'blobs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
const tmpCount = () => fs.readdirSync(store.blobs.tmpDir).length;
const ingest = (files: File[], l = limits) => ingestImages(files, { blobs: store.blobs, limits: l });

async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    const e = err as AppError;
    return { code: e.code, file: e.extensions.file, message: e.message };
  }
  throw new Error('expected a refusal');
}

/** A valid PNG whose header claims `w`×`h` pixels (a decompression bomb's calling card). */
function pngClaiming(w: number, h: number) {
  const out = Buffer.from(png);
  out.writeUInt32BE(w, 16);
  out.writeUInt32BE(h, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

describe('ingestImages', () => {
  it('accepts 20 mixed PNG and JPEG files with their sizes and types', async () => {
    const files = await Promise.all(
      Array.from({ length: 20 }, async (_, i) =>
        i % 2
          ? file(
              await solid(32 + i, 24, i * 10)
                .png()
                .toBuffer(),
              `p${i}.png`,
            )
          : file(
              await solid(30, 20 + i, i * 10)
                .jpeg()
                .toBuffer(),
              `dir/j${i}.jpg`,
            ),
      ),
    );
    const { images } = await ingest(files);
    expect(images).toHaveLength(20);
    for (const [i, img] of images.entries()) {
      expect(img.name).toBe(i % 2 ? `p${i}.png` : `j${i}.jpg`);
      expect(img.contentType).toBe(i % 2 ? 'image/png' : 'image/jpeg');
      expect([img.width, img.height]).toEqual(i % 2 ? [32 + i, 24] : [30, 20 + i]);
      expect(img.fileSize).toBe(files[i]!.size);
      expect((await store.blobs.get(img.blob)).length).toBe(img.fileSize);
    }
    expect(tmpCount()).toBe(0);
  });

  it('reads the ponyfill File objects Yoga hands to resolvers', async () => {
    const { images } = await ingest([new PonyfillFile([new Uint8Array(png)], 'yoga.png') as unknown as File]);
    expect(images[0]).toMatchObject({ name: 'yoga.png', width: 32, height: 24, fileSize: png.length });
  });

  it('accepts WebP, TIFF and GIF by content whatever the extension says', async () => {
    const kinds = ['webp', 'tiff', 'gif'] as const;
    const files = await Promise.all(kinds.map(async (k) => file(await solid(8, 6, 50).toFormat(k).toBuffer(), `${k}.bin`)));
    const { images } = await ingest(files);
    expect(images.map((i) => i.contentType)).toEqual(['image/webp', 'image/tiff', 'image/gif']);
  });

  it('refuses a truncated image, naming it, and stores none of the request', async () => {
    const r = await refusal(ingest([file(png, 'ok.png'), file(jpeg.subarray(0, jpeg.length >> 1), 'broken.jpg')]));
    expect(r).toMatchObject({ code: 'UNSUPPORTED_MEDIA', file: 'broken.jpg' });
    expect(r.message).toContain('broken.jpg');
    const r2 = await refusal(ingest([file(png.subarray(0, png.length - 20), 'cut.png')]));
    expect(r2).toMatchObject({ code: 'UNSUPPORTED_MEDIA', file: 'cut.png' });
    expect(blobCount()).toBe(0);
    expect(tmpCount()).toBe(0);
  });

  it('refuses a half-received camera frame that decoders would fill with grey: a JPEG cut short with its end marker, an interlaced PNG cut short', async () => {
    // a picture with detail, as a camera's: flat colour compresses to too few bytes to cut
    const raw = Buffer.alloc(320 * 240 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919) % 251;
    const photo = () => sharp(raw, { raw: { width: 320, height: 240, channels: 3 } });
    const frame = await photo().jpeg({ quality: 90 }).toBuffer();
    const cut = Buffer.concat([frame.subarray(0, Math.floor(frame.length * 0.3)), Buffer.from([0xff, 0xd9])]);
    // libvips itself only warns: without the whole-picture check this would be judged
    await sharp(cut, { failOn: 'error' }).raw().toBuffer();
    expect(await refusal(ingest([file(frame, 'whole.jpg'), file(cut, 'cut-with-eoi.jpg')]))).toMatchObject({
      code: 'UNSUPPORTED_MEDIA',
      file: 'cut-with-eoi.jpg',
    });
    const interlaced = await photo().png({ progressive: true }).toBuffer();
    expect(await refusal(ingest([file(interlaced.subarray(0, interlaced.length >> 1), 'cut-interlaced.png')]))).toMatchObject({
      code: 'UNSUPPORTED_MEDIA',
      file: 'cut-interlaced.png',
    });
    expect(blobCount()).toBe(0);
    // the whole ones pass
    expect((await ingest([file(frame, 'whole.jpg'), file(interlaced, 'interlaced.png')])).images).toHaveLength(2);
  });

  it('refuses text renamed .png and formats outside the list, naming the accepted ones', async () => {
    expect(await refusal(ingest([file(Buffer.from('hello, not an image\n'), 'notes.png', 'image/png')]))).toMatchObject({
      code: 'UNSUPPORTED_MEDIA',
      file: 'notes.png',
    });
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>');
    expect(await refusal(ingest([file(svg, 'logo.png')]))).toMatchObject({ code: 'UNSUPPORTED_MEDIA', file: 'logo.png' });
    expect(await refusal(ingest([file(new Uint8Array(0), 'empty.png')]))).toMatchObject({ code: 'UNSUPPORTED_MEDIA', file: 'empty.png' });
    // a BMP (24 bit, 2x1): an image, but not of a format read here
    const bmp = Buffer.from(
      '424d3e000000000000003600000028000000020000000100000001001800000000000800000000000000000000000000000000000000ff000000ff000000',
      'hex',
    );
    expect((await refusal(ingest([file(bmp, 'frame.bmp')]))).message).toBe(
      'file "frame.bmp" is not an image of a format read here (JPEG, PNG, WebP, TIFF, GIF)',
    );
    expect(blobCount()).toBe(0);
  });

  it('refuses oversize files and too many files with PAYLOAD_TOO_LARGE', async () => {
    const big = await refusal(ingest([file(png, 'small.png'), file(jpeg, 'big.jpg')], { ...limits, maxFileBytes: png.length }));
    expect(big).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', file: 'big.jpg' });
    const many = await refusal(
      ingest(
        Array.from({ length: 3 }, (_, i) => file(png, `${i}.png`)),
        { ...limits, maxFiles: 2 },
      ),
    );
    expect(many.code).toBe('PAYLOAD_TOO_LARGE');
    expect(blobCount()).toBe(0);
  });

  it('refuses a decompression bomb from its header, before decoding', async () => {
    const bomb = pngClaiming(100_000, 100_000);
    expect((await sharp(bomb, { limitInputPixels: false }).metadata()).width).toBe(100_000);
    const t = Date.now();
    expect(await refusal(ingest([file(bomb, 'bomb.png')]))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', file: 'bomb.png' });
    expect(Date.now() - t).toBeLessThan(1000);
    const large = await solid(1200, 1000, 0).png().toBuffer();
    expect(await refusal(ingest([file(large, 'large.png')]))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', file: 'large.png' });
    expect(blobCount()).toBe(0);
  });

  it('applies EXIF orientation and records the upright size', async () => {
    const rotated = await solid(40, 20, 0).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(rotated).metadata()).orientation).toBe(6);
    const { images } = await ingest([file(rotated, 'phone.jpg')]);
    expect(images[0]).toMatchObject({ width: 20, height: 40, contentType: 'image/jpeg' });
    const stored = await sharp(store.blobs.path(images[0]!.blob)).metadata();
    expect([stored.width, stored.height, stored.orientation ?? 1]).toEqual([20, 40, 1]);
    expect(images[0]!.fileSize).toBe(fs.statSync(store.blobs.path(images[0]!.blob)).size);
  });

  it('rollback removes the blobs it added but not those rows use', async () => {
    const target = await store.createTarget('t', []);
    const first = await ingest([file(png, 'a.png')]);
    await store.addItems([{ name: 'a', targetId: target.id, type: 'TRAINING', good: null, images: first.images }]);
    expect(store.blobs.holdCount(first.images[0]!.blob)).toBe(0);

    const second = await ingest([file(png, 'same.png'), file(jpeg, 'new.jpg')]);
    expect(blobCount()).toBe(2);
    await second.rollback();
    expect(await store.blobs.has(first.images[0]!.blob)).toBe(true);
    expect(await store.blobs.has(second.images[1]!.blob)).toBe(false);
    expect(blobCount()).toBe(1);
  });

  it('rollback leaves a blob that a concurrent upload of the same bytes still holds', async () => {
    const a = await ingest([file(jpeg, 'a.jpg')]);
    const b = await ingest([file(jpeg, 'b.jpg')]);
    await a.rollback();
    expect(await store.blobs.has(b.images[0]!.blob)).toBe(true);
    await b.rollback();
    expect(blobCount()).toBe(0);
  });
});
