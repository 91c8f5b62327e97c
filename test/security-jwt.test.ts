import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createAuth } from '../src/runtime/auth/auth.ts';
import { createStore } from '../src/runtime/store/index.ts';
import type { Store } from '../src/runtime/store/store.ts';

/** Issue 9's token controls: signing keys rotate without logging everyone out; tokens of a plant's own issuer (JWKS). */
let dir: string;
let store: Store;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sec-jwt-'));
  store = await createStore({ dataDir: dir });
});
afterAll(async () => {
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const K1 = 'first-signing-key-0123456789abcdefghij';
const K2 = 'second-signing-key-0123456789abcdefghij';

test('a rotated key: tokens of the previous key stay valid with JWT_PREVIOUS_SECRET, and only with it', async () => {
  const before = await createAuth({ store, config: loadConfig({ DATA_DIR: dir, JWT_SECRET: K1 }) });
  const { clientId, clientSecret } = await before.createClient('read', 'rotation');
  const old = (await before.issueToken(clientId, clientSecret)).accessToken;
  expect(decodeProtectedHeader(old).kid).toBeTruthy();

  const rotated = await createAuth({ store, config: loadConfig({ DATA_DIR: dir, JWT_SECRET: K2, JWT_PREVIOUS_SECRET: K1 }) });
  expect((await rotated.verify(old)).clientId).toBe(clientId);
  const fresh = (await rotated.issueToken(clientId, clientSecret)).accessToken;
  expect(decodeProtectedHeader(fresh).kid).not.toBe(decodeProtectedHeader(old).kid);
  expect((await rotated.verify(fresh)).clientId).toBe(clientId);

  const after = await createAuth({ store, config: loadConfig({ DATA_DIR: dir, JWT_SECRET: K2 }) });
  await expect(after.verify(old)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  await Promise.all([before.close(), rotated.close(), after.close()]);
});

test('tokens of an external issuer are verified with its JWKS, its scopes in this vocabulary', async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
  const idp = http.createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/jwks`;
  const auth = await createAuth({
    store,
    config: loadConfig({ DATA_DIR: dir, JWT_SECRET: K1, JWT_JWKS_URL: jwksUrl, JWT_ISSUER: 'https://idp.plant.example', JWT_AUDIENCE: 'spectro' }),
  });
  const sign = (claims: Record<string, unknown>, audience = 'spectro') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
      .setIssuer('https://idp.plant.example')
      .setAudience(audience)
      .setSubject('mes-line-4')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
  try {
    const p = await auth.verify(await sign({ scope: 'read predict' }));
    expect(p.clientId).toBe('mes-line-4');
    expect([...p.scopes].sort()).toEqual(['predict', 'read']);
    await expect(auth.verify(await sign({ scope: 'read' }, 'someone-else'))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(auth.verify(await sign({ scope: 'superuser' }))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  } finally {
    await auth.close();
    idp.close();
  }
});
