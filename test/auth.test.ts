import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { AppError } from '../src/errors.ts';
import { createAuth, TOKEN_AUDIENCE, TOKEN_ISSUER, type Auth } from '../src/runtime/auth/auth.ts';
import { createStore, type LocalStore } from '../src/runtime/store/index.ts';

let dir: string;
let store: LocalStore;
let clock = Date.now();
const now = () => clock;
let auth: Auth;
let admin: { clientId: string; clientSecret: string };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-test-'));
  store = await createStore({ dataDir: dir });
  auth = await createAuth({ store, config: loadConfig({ DATA_DIR: dir, TOKEN_TTL_SECONDS: '60' }), now });
  admin = (await auth.bootstrap())!;
});
afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return { code: (err as AppError).code, message: (err as AppError).message };
  }
  throw new Error('expected a refusal');
}

describe('bootstrap and client secrets', () => {
  it('generates one all-scope client once and stores only a salted hash', async () => {
    expect(admin.clientId).toMatch(/^spc_/);
    expect(await auth.bootstrap()).toBeNull();
    expect(await store.countClients()).toBe(1);
    const rec = await store.clientById(admin.clientId);
    expect(rec?.scope).toBe('all');
    expect(rec?.secretHash).toMatch(/^scrypt\$/);
    expect(rec?.secretHash).not.toContain(admin.clientSecret);
  });

  it('creates the configured client, and replaces its secret when the configuration changes', async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-boot-'));
    const s = await createStore({ dataDir: d });
    try {
      const env = { DATA_DIR: d, SPECTRO_CLIENT_ID: 'ops', SPECTRO_CLIENT_SECRET: 'first-secret-0123456789' };
      const a1 = await createAuth({ store: s, config: loadConfig(env) });
      expect(await a1.bootstrap()).toBeNull();
      await a1.issueToken('ops', 'first-secret-0123456789');
      const a2 = await createAuth({ store: s, config: loadConfig({ ...env, SPECTRO_CLIENT_SECRET: 'second-secret-0123456789' }) });
      await a2.bootstrap();
      expect((await refusal(a2.issueToken('ops', 'first-secret-0123456789'))).code).toBe('UNAUTHENTICATED');
      await a2.issueToken('ops', 'second-secret-0123456789');
      expect(await s.countClients()).toBe(1);
    } finally {
      await s.close();
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('tokens', () => {
  it('issues a bearer token that verifies with or without the scheme', async () => {
    const t = await auth.issueToken(admin.clientId, admin.clientSecret);
    expect(t).toMatchObject({ tokenType: 'Bearer', expiresIn: 60 });
    const p = await auth.verify(`Bearer ${t.accessToken}`);
    expect(p).toEqual({
      clientId: admin.clientId,
      scope: 'all',
      scopes: new Set(['read', 'predict', 'train', 'admin']),
      expiresAt: Math.floor(clock / 1000) + 60,
    });
    expect(await auth.verify(t.accessToken)).toEqual(p);
    expect(await auth.verify(`bearer  ${t.accessToken}`)).toEqual(p);
  });

  it('answers wrong secret and unknown client alike', async () => {
    const wrong = await refusal(auth.issueToken(admin.clientId, 'not-the-secret'));
    const unknown = await refusal(auth.issueToken('spc_unknown', admin.clientSecret));
    expect(wrong).toEqual({ code: 'UNAUTHENTICATED', message: 'invalid client credentials' });
    expect(unknown).toEqual(wrong);
    expect((await refusal(auth.issueToken('', ''))).code).toBe('UNAUTHENTICATED');
  });

  it('carries the read scope of a read-only client', async () => {
    const reader = await auth.createClient('read', 'dashboard');
    const t = await auth.issueToken(reader.clientId, reader.clientSecret);
    expect((await auth.verify(t.accessToken)).scope).toBe('read');
    expect((await refusal(auth.createClient('root' as never))).code).toBe('BAD_USER_INPUT');
  });

  it('refuses an expired token once the small clock tolerance has passed', async () => {
    const t = await auth.issueToken(admin.clientId, admin.clientSecret);
    const start = clock;
    try {
      clock = start + 62_000; // inside the 5 s tolerance
      await auth.verify(t.accessToken);
      clock = start + 66_000;
      expect(await refusal(auth.verify(t.accessToken))).toEqual({ code: 'UNAUTHENTICATED', message: 'the token has expired' });
    } finally {
      clock = start;
    }
  });

  it('refuses forged tokens: another key, altered claims, alg none, wrong audience', async () => {
    const t = await auth.issueToken(admin.clientId, admin.clientSecret);
    const [h, , sig] = t.accessToken.split('.');
    const iat = Math.floor(clock / 1000);
    const claims = { scope: 'all' };
    const otherKey = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(admin.clientId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .setJti('x')
      .sign(new TextEncoder().encode('x'.repeat(32)));
    const payload = Buffer.from(JSON.stringify({ scope: 'all', sub: 'evil', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat, exp: iat + 60, jti: 'y' })).toString(
      'base64url',
    );
    const altered = `${h}.${payload}.${sig}`;
    const none = new UnsecuredJWT(claims)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject('x')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .encode();
    for (const forged of [otherKey, altered, none]) {
      expect((await refusal(auth.verify(`Bearer ${forged}`))).code).toBe('UNAUTHENTICATED');
    }
  });

  it('refuses missing and malformed tokens', async () => {
    for (const bad of [null, undefined, '', '   ', 'Bearer', 'Bearer abc', 'Basic dXNlcjpwYXNz', 'a.b', 'Bearer a.b.c']) {
      expect((await refusal(auth.verify(bad))).code).toBe('UNAUTHENTICATED');
    }
  });

  it('keeps the generated signing key across restarts', async () => {
    const t = await auth.issueToken(admin.clientId, admin.clientSecret);
    const again = await createAuth({ store, config: loadConfig({ DATA_DIR: dir }), now });
    expect((await again.verify(t.accessToken)).clientId).toBe(admin.clientId);
    const configured = await createAuth({ store, config: loadConfig({ DATA_DIR: dir, JWT_SECRET: 'configured-secret-0123456789abcdefghij' }), now });
    expect((await refusal(configured.verify(t.accessToken))).code).toBe('UNAUTHENTICATED');
  });
});
