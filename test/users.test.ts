import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import type { AppError } from '../src/errors.ts';
import { createAccounts } from '../src/runtime/auth/accounts.ts';
import { hashPassword, verifySecret } from '../src/runtime/auth/password-hash.ts';
import { codesOf, dataOf, startGateway, type Gateway, type GraphResult } from './graph-helpers.ts';
import { ENGINES } from './store-engines.ts';

const SIGN_IN =
  'mutation($name: String!, $password: String!) { signIn(name: $name, password: $password) { accessToken expiresIn sessionExpiresAt user { id name role scopes } } }';
const REFRESH = 'mutation { refreshSession { accessToken expiresIn sessionExpiresAt user { name role } } }';
const ME = '{ me { subject scopes user { name role } } }';
const ADMIN_PASSWORD = 'first-admin-password';

/** The session cookie a response set ("" when it cleared it), with its attributes. */
function setCookie(res: GraphResult) {
  const header = res.headers.getSetCookie().find((c) => c.startsWith('spectro_session='));
  if (!header) return null;
  const [pair, ...attrs] = header.split(';').map((s) => s.trim());
  return { value: decodeURIComponent(pair!.slice(pair!.indexOf('=') + 1)), attrs };
}

describe.each(ENGINES)('people and sessions (%s)', (engine) => {
  let gw: Gateway;
  const signIn = async (name: string, password: string) => {
    const res = await gw.gql(SIGN_IN, { name, password });
    return { res, cookie: setCookie(res), data: res.data?.signIn };
  };
  const withCookie = (cookie: string) => ({ cookie: `other=1; spectro_session=${encodeURIComponent(cookie)}` });

  beforeAll(async () => {
    gw = await startGateway({ adminPassword: ADMIN_PASSWORD, sessionTtlSeconds: 3 * 86_400 }, { engine });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('the first start made an admin who signs in with a password, getting an HttpOnly SameSite=Strict cookie and a short token', async () => {
    // ADMIN_PASSWORD given: nothing to print.
    expect(gw.server.bootstrapAdmin).toBeNull();
    const wrong = await signIn('admin', 'not-the-password');
    expect(codesOf(wrong.res)).toEqual(['UNAUTHENTICATED']);
    expect(wrong.cookie).toBeNull();
    const unknown = await signIn('nobody', ADMIN_PASSWORD);
    expect(unknown.res.errors?.[0]?.message).toBe(wrong.res.errors?.[0]?.message);

    const { data, cookie } = await signIn('admin', ADMIN_PASSWORD);
    expect(data.user).toMatchObject({ name: 'admin', role: 'ADMIN', scopes: ['READ', 'PREDICT', 'TRAIN', 'ADMIN'] });
    expect(data.expiresIn).toBe(gw.config.sessionTokenTtlSeconds);
    expect(cookie!.value).toMatch(/^[\w-]{43}$/);
    expect(cookie!.attrs).toEqual(expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${3 * 86_400}`]));
    expect(Date.parse(data.sessionExpiresAt) - Date.now()).toBeGreaterThan(3 * 86_400_000 - 60_000);
    const me = dataOf(await gw.gql(ME, {}, data.accessToken)).me;
    expect(me).toEqual({ subject: `user:${data.user.id}`, scopes: ['READ', 'PREDICT', 'TRAIN', 'ADMIN'], user: { name: 'admin', role: 'ADMIN' } });
  });

  it('the cookie alone gets fresh tokens (no token needed), and sign-out ends the session and clears the cookie', async () => {
    const { cookie } = await signIn('admin', ADMIN_PASSWORD);
    const refreshed = await gw.gql(REFRESH, {}, null, withCookie(cookie!.value));
    const fresh = dataOf(refreshed).refreshSession;
    expect(fresh.user).toEqual({ name: 'admin', role: 'ADMIN' });
    expect(dataOf(await gw.gql(ME, {}, fresh.accessToken)).me.user.name).toBe('admin');
    // Sliding: the cookie is set again for the whole SESSION_TTL from now.
    expect(setCookie(refreshed)!.attrs).toContain(`Max-Age=${3 * 86_400}`);

    const out = await gw.gql('mutation { signOut }', {}, null, withCookie(cookie!.value));
    expect(dataOf(out).signOut).toBe(true);
    expect(setCookie(out)).toMatchObject({ value: '', attrs: expect.arrayContaining(['Max-Age=0']) });
    const after = await gw.gql(REFRESH, {}, null, withCookie(cookie!.value));
    expect(codesOf(after)).toEqual(['UNAUTHENTICATED']);
    expect(after.errors?.[0]?.message).toMatch(/session has ended/);
    expect(codesOf(await gw.gql(REFRESH))).toEqual(['UNAUTHENTICATED']);
  });

  it('roles limit what people do: a viewer reads but cannot train or judge, an operator judges but cannot train', async () => {
    const admin = (await signIn('admin', ADMIN_PASSWORD)).data.accessToken;
    for (const [name, role] of [
      ['vera', 'VIEWER'],
      ['otto', 'OPERATOR'],
      ['erin', 'ENGINEER'],
    ]) {
      const made = await gw.gql(
        'mutation($n: String!, $r: Role!) { createUser(name: $n, role: $r, password: "password-of-8") { name role } }',
        { n: name, r: role },
        admin,
      );
      expect(dataOf(made).createUser).toEqual({ name, role });
    }
    const viewer = (await signIn('vera', 'password-of-8')).data.accessToken;
    const operator = (await signIn('otto', 'password-of-8')).data.accessToken;
    const engineer = (await signIn('erin', 'password-of-8')).data.accessToken;
    const { algorithms } = dataOf(await gw.gql('{ algorithms { id } }', {}, viewer));
    const train = 'mutation($a: ID!) { trainModel(algorithmId: $a) { id } }';

    const refused = await gw.gql(train, { a: algorithms[0].id }, viewer);
    expect(codesOf(refused)).toEqual(['FORBIDDEN']);
    expect(refused.errors?.[0]?.message).toMatch(/may not do this/);
    expect(codesOf(await gw.gql(train, { a: algorithms[0].id }, operator))).toEqual(['FORBIDDEN']);
    // The engineer passes the scope check (and fails later for want of training pictures).
    expect(codesOf(await gw.gql(train, { a: algorithms[0].id }, engineer))).not.toContain('FORBIDDEN');

    const predict = 'mutation { predict(modelId: "no-such-model", itemIds: []) { id } }';
    expect(await gw.gql(predict, {}, viewer).then(codesOf)).toEqual(['FORBIDDEN']);
    expect(await gw.gql(predict, {}, operator).then(codesOf)).not.toContain('FORBIDDEN');
    // People are the admin's.
    expect(codesOf(await gw.gql('{ users { name } }', {}, engineer))).toEqual(['FORBIDDEN']);
    expect(dataOf(await gw.gql('{ users { name role } }', {}, admin)).users.map((u: { name: string }) => u.name)).toEqual(['admin', 'erin', 'otto', 'vera']);
  });

  it('an admin changes a role or disables someone, which ends their sessions; the last admin stays', async () => {
    const admin = (await signIn('admin', ADMIN_PASSWORD)).data.accessToken;
    const made = dataOf(await gw.gql('mutation { createUser(name: "paul", role: OPERATOR, password: "password-of-8") { id } }', {}, admin)).createUser;
    const { cookie } = await signIn('paul', 'password-of-8');
    const sessions = dataOf(await gw.gql('query($id: ID!) { node(id: $id) { id } users { id sessions { userAgent } } }', { id: made.id }, admin));
    expect(sessions.users.find((u: { id: string }) => u.id === made.id).sessions).toHaveLength(1);

    dataOf(await gw.gql('mutation($id: ID!) { updateUser(id: $id, role: ENGINEER) { role } }', { id: made.id }, admin));
    expect(codesOf(await gw.gql(REFRESH, {}, null, withCookie(cookie!.value)))).toEqual(['UNAUTHENTICATED']);
    // Signed in again, the new role is in the token.
    const again = await signIn('paul', 'password-of-8');
    expect(again.data.user.role).toBe('ENGINEER');

    dataOf(await gw.gql('mutation($id: ID!) { updateUser(id: $id, disabled: true) { disabled } }', { id: made.id }, admin));
    expect(codesOf(await gw.gql(REFRESH, {}, null, withCookie(again.cookie!.value)))).toEqual(['UNAUTHENTICATED']);
    expect(codesOf((await signIn('paul', 'password-of-8')).res)).toEqual(['UNAUTHENTICATED']);

    const me = dataOf(await gw.gql(ME + ' ', {}, admin)).me;
    const adminId = me.subject.slice('user:'.length);
    const last = await gw.gql('mutation($id: ID!) { updateUser(id: $id, role: VIEWER) { role } }', { id: adminId }, admin);
    expect(codesOf(last)).toEqual(['CONFLICT']);
    expect(last.errors?.[0]?.message).toMatch(/last admin/);
    expect(codesOf(await gw.gql('mutation($id: ID!) { deleteUser(id: $id) }', { id: adminId }, admin))).toEqual(['CONFLICT']);
    const bad = await gw.gql('mutation { createUser(name: "short", role: VIEWER, password: "short") { id } }', {}, admin);
    expect(bad.errors?.[0]).toMatchObject({
      message: 'the password must have at least 8 characters',
      extensions: { code: 'BAD_USER_INPUT', argument: 'password' },
    });
  });

  it('admins manage API clients: create with scopes, rotate the secret (the old one stops), revoke', async () => {
    const admin = (await signIn('admin', ADMIN_PASSWORD)).data.accessToken;
    const created = dataOf(
      await gw.gql('mutation { createApiClient(name: "camera 3", scopes: ["read", "predict"]) { client { clientId name scopes } clientSecret } }', {}, admin),
    ).createApiClient;
    expect(created.client).toMatchObject({ name: 'camera 3', scopes: ['read', 'predict'] });
    const token = (secret: string) =>
      gw.gql('mutation($id: String!, $s: String!) { token(clientId: $id, clientSecret: $s) { accessToken } }', { id: created.client.clientId, s: secret });
    const machine = dataOf(await token(created.clientSecret)).token.accessToken;
    expect(dataOf(await gw.gql(ME, {}, machine)).me).toMatchObject({ scopes: ['READ', 'PREDICT'], user: null });

    const rotated = dataOf(
      await gw.gql('mutation($id: String!) { rotateApiClientSecret(clientId: $id) { clientSecret } }', { id: created.client.clientId }, admin),
    ).rotateApiClientSecret;
    expect(codesOf(await token(created.clientSecret))).toEqual(['UNAUTHENTICATED']);
    expect(dataOf(await token(rotated.clientSecret)).token.accessToken).toBeTruthy();

    const list = dataOf(await gw.gql('{ apiClients { clientId } }', {}, admin)).apiClients;
    expect(list.map((c: { clientId: string }) => c.clientId)).toContain(created.client.clientId);
    expect(
      dataOf(await gw.gql('mutation($id: String!) { revokeApiClient(clientId: $id) { clientId } }', { id: created.client.clientId }, admin)).revokeApiClient
        .clientId,
    ).toBe(created.client.clientId);
    expect(codesOf(await token(rotated.clientSecret))).toEqual(['UNAUTHENTICATED']);
    // Client tokens of the old vocabulary keep working: `all` may do everything, `read` only read.
    expect(dataOf(await gw.gql(ME, {}, await gw.token('all'))).me.scopes).toEqual(['READ', 'PREDICT', 'TRAIN', 'ADMIN']);
    expect(dataOf(await gw.gql(ME, {}, await gw.token('read'))).me.scopes).toEqual(['READ']);
  });
});

describe('guessing passwords', () => {
  it('a name that failed five times in a row waits, longer at each further failure; a right password then clears it', async () => {
    let clock = Date.parse('2026-12-01T08:00:00Z');
    const gw = await startGateway({ adminPassword: ADMIN_PASSWORD });
    try {
      const { store, auth, config } = gw.server.services;
      const accounts = createAccounts({ store, auth, config, now: () => clock });
      const attempt = (password: string) =>
        accounts.signIn('admin', password, null).then(
          () => 'ok',
          (err: AppError) => err.code,
        );
      for (let i = 0; i < 5; i++) expect(await attempt('guess')).toBe('UNAUTHENTICATED');
      // Refused before any hash is computed, even with the right password.
      expect(await attempt(ADMIN_PASSWORD)).toBe('RATE_LIMITED');
      clock += 1000;
      expect(await attempt('guess')).toBe('UNAUTHENTICATED');
      clock += 1000;
      expect(await attempt(ADMIN_PASSWORD)).toBe('RATE_LIMITED');
      await expect(accounts.signIn('admin', ADMIN_PASSWORD, null)).rejects.toThrow(/too many failed sign-ins for "admin"; try again in 1 s/);
      clock += 1000;
      expect(await attempt(ADMIN_PASSWORD)).toBe('ok');
      expect(await attempt('guess')).toBe('UNAUTHENTICATED');
    } finally {
      await gw.close();
    }
  });
});

describe('password hashes', () => {
  it('are scrypt at N=2^17, r=8 by default (128 MiB per hash), and never cheaper than 2^14 whatever is configured', async () => {
    expect(loadConfig({}).passwordScryptLog2N).toBe(17);
    expect(() => loadConfig({ PASSWORD_SCRYPT_LOG2_N: '10' })).toThrow('PASSWORD_SCRYPT_LOG2_N must be between 14 and 20, got 10');
    const hash = await hashPassword('correct horse', 17);
    expect(hash).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(await verifySecret('correct horse', hash)).toBe(true);
    expect(await verifySecret('correct horsf', hash)).toBe(false);
    expect(await hashPassword('x', 3)).toMatch(/^scrypt\$16384\$/);
  });
});

describe('without ADMIN_PASSWORD', () => {
  it('the first start generates the admin password (to print once), and only the first', async () => {
    const gw = await startGateway();
    try {
      const made = gw.server.bootstrapAdmin!;
      expect(made.name).toBe('admin');
      expect(made.password.length).toBeGreaterThanOrEqual(16);
      const res = await gw.gql(SIGN_IN, { name: 'admin', password: made.password });
      expect(dataOf(res).signIn.user.role).toBe('ADMIN');
      expect(await gw.server.services.accounts.bootstrapAdmin()).toBeNull();
    } finally {
      await gw.close();
    }
  });
});

describe('npm run user', () => {
  const run = promisify(execFile);
  let dataDir: string;
  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-user-cli-'));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const cli = (...args: string[]) =>
    run(process.execPath, ['scripts/user.ts', ...args], { env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', PASSWORD_SCRYPT_LOG2_N: '14' } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('adds a person with a role and a password printed once; the gateway then signs them in', async () => {
    const added = await cli('add', 'quinn', '--role', 'engineer');
    expect(added.code).toBe(0);
    const password = /password \(shown once\): (\S+)/.exec(added.stdout)![1]!;
    expect((await cli('list')).stdout).toBe('quinn\tengineer\t0 sessions\n');
    expect(await cli('add', 'quinn', '--role', 'viewer')).toMatchObject({ code: 1, stderr: 'a user named "quinn" already exists\n' });
    expect(await cli('add', 'rita', '--role', 'boss')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('role must be one of viewer, operator, engineer, admin'),
    });
    expect((await cli('add', 'rita')).code).toBe(2);

    const gw = await startGateway({ dataDir });
    try {
      // A person exists already: no admin is made.
      expect(gw.server.bootstrapAdmin).toBeNull();
      const res = await gw.gql(SIGN_IN, { name: 'quinn', password });
      expect(dataOf(res).signIn.user).toMatchObject({ name: 'quinn', role: 'ENGINEER' });
    } finally {
      await gw.server.stop();
    }
  });
});
