import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { signLicense } from '../src/runtime/license/license.ts';
import { codesOf, dataOf, startGateway, type Gateway, type GraphResult } from './graph-helpers.ts';

const keys = generateKeyPairSync('ed25519');
const privatePem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

let g: Gateway;
let token: string;

beforeAll(async () => {
  g = await startGateway({ licensePublicKey: publicPem });
  token = await g.token('all');
});
afterAll(() => g?.close());

/** setLicense through a multipart request, in process. */
async function setLicense(text: string): Promise<GraphResult> {
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({ query: 'mutation($f: File!) { setLicense(file: $f) { valid expiresAt licensee features } }', variables: { f: null } }),
  );
  form.set('map', JSON.stringify({ 0: ['variables.f'] }));
  form.set('0', new Blob([text], { type: 'application/json' }), 'license.json');
  const res = await g.fetch('/graphql', { method: 'POST', body: form, headers: { authorization: `Bearer ${token}`, 'x-graphql-yoga-csrf': '1' } });
  return { status: res.status, headers: res.headers, ...((await res.json()) as object) };
}

test('nodeHash is stable, a license signed for it installs, and license reports it', async () => {
  const first = dataOf(await g.gql<any>('{ nodeHash license { valid } }', {}, token));
  expect(first.license).toBeNull();
  expect(dataOf(await g.gql<any>('{ nodeHash }', {}, token)).nodeHash).toBe(first.nodeHash);

  const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const doc = signLicense({ licensee: 'ACME Line 3', nodeHash: first.nodeHash, expiresAt, features: ['inspection'] }, privatePem);
  const res = dataOf(await setLicense(JSON.stringify(doc)));
  expect(res.setLicense).toEqual({ valid: true, expiresAt, licensee: 'ACME Line 3', features: ['inspection'] });
  expect(dataOf(await g.gql<any>('{ license { valid expiresAt } }', {}, token)).license).toEqual({ valid: true, expiresAt });
});

test('a tampered license or one for another installation is refused (BAD_USER_INPUT), the old one stays', async () => {
  const { nodeHash } = dataOf(await g.gql<any>('{ nodeHash }', {}, token));
  const doc = signLicense({ licensee: 'ACME', nodeHash, expiresAt: null, features: [] }, privatePem);
  const tampered = { ...doc, payload: { ...doc.payload, licensee: 'Somebody else' } };
  const other = signLicense({ licensee: 'ACME', nodeHash: 'f'.repeat(64), expiresAt: null, features: [] }, privatePem);
  for (const bad of [JSON.stringify(tampered), JSON.stringify(other), 'not json']) {
    expect(codesOf(await setLicense(bad))).toEqual(['BAD_USER_INPUT']);
  }
  expect(dataOf(await g.gql<any>('{ license { licensee } }', {}, token)).license.licensee).toBe('ACME Line 3');
});
