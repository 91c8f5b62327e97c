import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape } from './metrics-helpers.ts';
import { startServer, type TestServer } from './predict-server.ts';

/**
 * A full disk during an upload, on a real one: DATA_DIR on a small tmpfs, filled up. Mounting
 * needs root (CAP_SYS_ADMIN), which CI has; elsewhere the test says why it is skipped.
 */
const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-full-'));
let mounted = false;
let whyNot = '';
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', mountPoint], { stdio: 'pipe' });
  mounted = true;
} catch (err) {
  whyNot = String((err as { stderr?: Buffer }).stderr ?? err).trim();
  fs.rmSync(mountPoint, { recursive: true, force: true });
}

let ts: TestServer;
const dataDir = path.join(mountPoint, 'data');
const filler = path.join(mountPoint, 'filler');
const free = () => {
  const s = fs.statfsSync(mountPoint);
  return s.bavail * s.bsize;
};

beforeAll(async () => {
  if (!mounted) return;
  ts = await startServer({ DATA_DIR: dataDir, MIN_FREE_DISK_BYTES: String(1024 * 1024) });
});
afterAll(async () => {
  if (!mounted) return;
  await ts?.stop().catch(() => {});
  execFileSync('umount', [mountPoint]);
  fs.rmSync(mountPoint, { recursive: true, force: true });
});

/** A picture of random pixels: its PNG is about as big as its pixels (~470 kB here). */
async function noisePng(seed: number, side = 400) {
  const raw = Buffer.alloc(side * side * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < raw.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    raw[i] = x & 0xff;
  }
  return sharp(raw, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

const files = (dir: string) =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name)
    : [];

describe.skipIf(!mounted)(`a full disk during an upload (tmpfs on DATA_DIR)${mounted ? '' : `: cannot mount here (${whyNot})`}`, () => {
  it('answers a clear UNAVAILABLE / DISK_FULL, leaves nothing half-written, reads not ready, and works again once space is freed', async () => {
    const upload = (pngs: Buffer[]) =>
      ts.upload(
        'mutation ($f: [File!]!) { addItems(files: $f, training: false) { items { id name } } }',
        { f: pngs.map(() => null) },
        Object.fromEntries(pngs.map((body, i) => [`f.${i}`, { name: `noise-${i}.png`, body, type: 'image/png' }])),
      );
    const pngs = [await noisePng(1), await noisePng(2)];
    const blobsBefore = files(path.join(dataDir, 'blobs'));
    const metricsBefore = await scrape(ts.url);

    // Leave ~600 kB: the first picture fits in staging, the second does not.
    fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 600 * 1024)));
    expect(free()).toBeLessThan(pngs[0]!.byteLength + pngs[1]!.byteLength);

    const full = await upload(pngs);
    expect(full.data).toBeNull();
    expect(full.errors).toHaveLength(1);
    expect(full.errors![0]).toMatchObject({ extensions: { code: 'UNAVAILABLE', reason: 'DISK_FULL' }, path: ['addItems'] });
    expect(full.errors![0].message).toMatch(/out of disk space; nothing from this request was stored/);

    // Nothing half-written: no staged file, no new blob, no item.
    expect(files(path.join(dataDir, 'tmp'))).toEqual([]);
    expect(files(path.join(dataDir, 'blobs'))).toEqual(blobsBefore);
    const items = await ts.gql('{ items(type: PREDICTION) { totalCount } }');
    expect(items.data.items.totalCount).toBe(0);
    const metricsAfter = await scrape(ts.url);
    expect(
      metricsAfter.get('spectro_upload_rejects_total', { reason: 'DISK_FULL' }) - metricsBefore.get('spectro_upload_rejects_total', { reason: 'DISK_FULL' }),
    ).toBe(1);
    const readiness = await fetch(`${ts.url}/readiness`);
    expect(readiness.status).toBe(503);
    expect(((await readiness.json()) as { checks: { disk: string } }).checks.disk).toBe('down');

    fs.rmSync(filler);
    const again = await upload(pngs);
    expect(again.errors).toBeUndefined();
    expect(again.data.addItems.items.map((i: { name: string }) => i.name)).toEqual(['noise-0.png', 'noise-1.png']);
    expect((await fetch(`${ts.url}/readiness`)).status).toBe(200);
  });
});
