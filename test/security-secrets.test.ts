import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { createUrlSigner, MAX_SIGNED_URL_TTL_SECONDS } from '../src/runtime/images/signed-url.ts';
import { createStore } from '../src/runtime/store/index.ts';

/** Attack 10 of issue 9: secrets on disk readable by any local user; unbounded link lifetimes. */
const mode = (p: string) => fs.statSync(p).mode & 0o777;

test('DATA_DIR and the database that holds the signing keys are private to the gateway', async () => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'sec-files-'));
  try {
    const fresh = path.join(parent, 'fresh');
    const s1 = await createStore({ dataDir: fresh });
    await s1.initSetting('auth.jwtSecret', 'x'.repeat(40));
    expect(mode(fresh)).toBe(0o700);
    expect(mode(path.join(fresh, 'spectro.db'))).toBe(0o600);
    await s1.close();

    // An existing, world-readable installation is tightened at start.
    const old = path.join(parent, 'old');
    fs.mkdirSync(old, { mode: 0o755 });
    fs.chmodSync(old, 0o755);
    const s2 = await createStore({ dataDir: old });
    await s2.close();
    fs.chmodSync(path.join(old, 'spectro.db'), 0o644);
    const s3 = await createStore({ dataDir: old });
    expect(mode(old)).toBe(0o700);
    expect(mode(path.join(old, 'spectro.db'))).toBe(0o600);
    await s3.close();
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('signed links have bounded lifetimes: a 10-year link is refused even with a valid signature', () => {
  const secret = 'url-secret-0123456789abcdef0123456789';
  const tenYears = createUrlSigner({ secret, ttlSeconds: 10 * 365 * 86_400 });
  const gateway = createUrlSigner({ secret, ttlSeconds: 3600 });
  const forged = tenYears.sign('/files/blobs/abc');
  expect(gateway.verify(forged)).toBe(false);
  expect(gateway.verify(gateway.sign('/files/blobs/abc'))).toBe(true);
  // Even a setting of ten years signs links of at most a week.
  const exp = Number(new URL(forged, 'http://x').searchParams.get('exp'));
  expect(exp - Date.now() / 1000).toBeLessThanOrEqual(MAX_SIGNED_URL_TTL_SECONDS + 1);
});
