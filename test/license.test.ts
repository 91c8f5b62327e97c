import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { AppError } from '../src/errors.ts';
import { createLicenseService, signLicense, VENDOR_PUBLIC_KEY_PEM, type LicensePayload, type LicenseService } from '../src/runtime/license/license.ts';
import { createStore, type LocalStore } from '../src/runtime/store/index.ts';

const pair = () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
};

let dir: string;
let store: LocalStore;
let clock = Date.parse('2026-06-01T00:00:00Z');
const vendor = pair();
let license: LicenseService;
let node: string;

const payload = (over: Partial<LicensePayload> = {}): LicensePayload => ({
  licensee: 'ACME',
  nodeHash: node,
  expiresAt: '2027-01-01T00:00:00.000Z',
  features: ['training'],
  ...over,
});
const doc = (over: Partial<LicensePayload> = {}, key = vendor.privatePem) => JSON.stringify(signLicense(payload(over), key));

async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('BAD_USER_INPUT');
    return (err as AppError).message;
  }
  throw new Error('expected BAD_USER_INPUT');
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'license-test-'));
  store = await createStore({ dataDir: dir });
  license = createLicenseService({ store, config: loadConfig({ DATA_DIR: dir, LICENSE_PUBLIC_KEY: vendor.publicPem }), now: () => clock });
  node = await license.nodeHash();
});
afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('license', () => {
  it('keeps the node hash stable across restarts and distinct between installations', async () => {
    expect(node).toMatch(/^[0-9a-f]{64}$/);
    await store.close();
    store = await createStore({ dataDir: dir });
    license = createLicenseService({ store, config: loadConfig({ DATA_DIR: dir, LICENSE_PUBLIC_KEY: vendor.publicPem }), now: () => clock });
    expect(await license.nodeHash()).toBe(node);
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'license-other-'));
    const s2 = await createStore({ dataDir: other });
    const l2 = createLicenseService({ store: s2, config: loadConfig({ DATA_DIR: other, LICENSE_PUBLIC_KEY: vendor.publicPem }) });
    expect(await l2.nodeHash()).not.toBe(node);
    await s2.close();
    fs.rmSync(other, { recursive: true, force: true });
  });

  it('installs a valid license for this node and reports it until it expires', async () => {
    expect(await license.current()).toBeNull();
    const state = await license.install(doc());
    expect(state).toEqual({ licensee: 'ACME', expiresAt: '2027-01-01T00:00:00.000Z', features: ['training'], valid: true });
    expect(await license.current()).toEqual(state);
    expect((await store.license())?.expiresAt).toBe('2027-01-01T00:00:00.000Z');
    const saved = clock;
    clock = Date.parse('2027-01-02T00:00:00Z');
    expect((await license.current())?.valid).toBe(false);
    clock = saved;
  });

  it('accepts a wildcard node and a perpetual license', async () => {
    expect((await license.install(doc({ nodeHash: '*', expiresAt: null }))).expiresAt).toBeNull();
  });

  it('refuses expired, other-node, forged and malformed files, keeping the installed one', async () => {
    await license.install(doc());
    expect(await refusal(license.install(doc({ expiresAt: '2026-05-01T00:00:00Z' })))).toMatch(/expired/);
    expect(await refusal(license.install(doc({ nodeHash: 'f'.repeat(64) })))).toMatch(/another installation/);
    expect(await refusal(license.install(doc({}, pair().privatePem)))).toMatch(/signature/);
    const tampered = JSON.parse(doc());
    tampered.payload.expiresAt = '2099-01-01T00:00:00.000Z';
    expect(await refusal(license.install(JSON.stringify(tampered)))).toMatch(/signature/);
    expect(await refusal(license.install('not json'))).toMatch(/JSON/);
    expect(await refusal(license.install('{"format":"other"}'))).toMatch(/spectro-license\/1/);
    const missing = JSON.parse(doc());
    delete missing.payload.features;
    expect(await refusal(license.install(JSON.stringify(missing)))).toMatch(/missing/);
    expect((await license.current())?.expiresAt).toBe('2027-01-01T00:00:00.000Z');
  });

  it('is not valid under the committed vendor key when signed by a test key', async () => {
    expect(fs.readFileSync('src/runtime/license/vendor-public-key.pem', 'utf8')).toBe(VENDOR_PUBLIC_KEY_PEM);
    const vendorDefault = createLicenseService({ store, config: loadConfig({ DATA_DIR: dir }), now: () => clock });
    expect(await refusal(vendorDefault.install(doc()))).toMatch(/signature/);
    expect((await vendorDefault.current())?.valid).toBe(false);
  });

  it('issues a license with scripts/issue-license.ts that the gateway accepts', async () => {
    const keys = path.join(dir, 'keys');
    const run = (args: string[]) => promisify(execFile)(process.execPath, ['scripts/issue-license.ts', ...args], { cwd: process.cwd() });
    await run(['--generate-keys', keys]);
    const { stdout } = await run([
      '--key',
      path.join(keys, 'private.pem'),
      '--licensee',
      'Line 4',
      '--node',
      node,
      '--expires',
      '2030-01-01',
      '--features',
      'a, b',
    ]);
    const l = createLicenseService({ store, config: loadConfig({ DATA_DIR: dir, LICENSE_PUBLIC_KEY: path.join(keys, 'public.pem') }), now: () => clock });
    expect(await l.install(stdout)).toMatchObject({ licensee: 'Line 4', features: ['a', 'b'], valid: true });
  });
});
