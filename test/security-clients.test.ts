import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codesOf, dataOf, startGateway, type Gateway } from './graph-helpers.ts';
import { rawSocket } from './ws-raw.ts';

/**
 * Issue 9's controls: revocable API clients with finer scopes, secret rotation, tokens checked
 * against the live client (attack 10: a token for a client that does not exist), an audit trail.
 */
let g: Gateway;
let admin: string;
beforeAll(async () => {
  g = await startGateway();
  admin = await g.token('all');
});
afterAll(() => g?.close());

const CREATE = 'mutation($n: String, $s: [String!]!) { createApiClient(name: $n, scopes: $s) { client { clientId scopes revokedAt } clientSecret } }';
const tokenOf = async (clientId: string, secret: string) => (await g.server.services.auth.issueToken(clientId, secret)).accessToken;

test('admins create clients with finer scopes; a read-only or predict-only client cannot manage clients', async () => {
  const created = dataOf(await g.gql(CREATE, { n: 'line 3', s: ['read', 'predict'] }, admin)).createApiClient;
  expect(created.client.scopes).toEqual(['read', 'predict']);
  const lineToken = await tokenOf(created.client.clientId, created.clientSecret);
  // It reads...
  expect((await g.gql('{ targets { id } }', {}, lineToken)).errors).toBeUndefined();
  // ...but may neither manage clients nor write without a scope of that write.
  expect(codesOf(await g.gql(CREATE, { s: ['all'] }, lineToken))).toEqual(['FORBIDDEN']);
  expect(codesOf(await g.gql('{ apiClients { clientId } }', {}, lineToken))).toEqual(['FORBIDDEN']);
  expect(codesOf(await g.gql('mutation { createTarget(name: "x") { id } }', {}, lineToken))).toEqual(['FORBIDDEN']);
  expect(codesOf(await g.gql(CREATE, { s: ['root'] }, admin))).toEqual(['BAD_USER_INPUT']);
});

test('a revoked client is refused at once: tokens on requests and on open sockets, and new tokens', async () => {
  const created = dataOf(await g.gql(CREATE, { n: 'to revoke', s: ['read'] }, admin)).createApiClient;
  const { clientId } = created.client;
  const token = await tokenOf(clientId, created.clientSecret);
  expect((await g.gql('{ targets { id } }', {}, token)).errors).toBeUndefined();

  const { url } = await g.server.start();
  const socket = await rawSocket(`${url.replace('http', 'ws')}/graphql`);
  socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
  await socket.take('connection_ack');

  const revoked = dataOf(await g.gql('mutation($c: String!) { revokeApiClient(clientId: $c) { revokedAt } }', { c: clientId }, admin));
  expect(revoked.revokeApiClient.revokedAt).toBeTruthy();
  const refused = await g.gql('{ targets { id } }', {}, token);
  expect(codesOf(refused)).toEqual(['UNAUTHENTICATED']);
  expect(refused.errors?.[0]?.message).toMatch(/revoked/);
  await expect(g.server.services.auth.issueToken(clientId, created.clientSecret)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  const closed = await socket.closed;
  expect(closed.code).toBe(4403);
  expect(closed.reason).toMatch(/revoked/);
});

test('a token signed for a client that does not exist is refused', async () => {
  const { SignJWT } = await import('jose');
  const key = Buffer.from((await g.server.services.store.getSetting('auth.jwtSecret'))!, 'utf8');
  const now = Math.floor(Date.now() / 1000);
  const forged = await new SignJWT({ scope: 'all' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('spectro-gateway')
    .setAudience('spectro-gateway')
    .setSubject('spc_nobody')
    .setIssuedAt(now)
    .setExpirationTime(now + 10 * 365 * 86400)
    .setJti('x')
    .sign(key);
  const res = await g.gql('{ targets { id } }', {}, forged);
  expect(codesOf(res)).toEqual(['UNAUTHENTICATED']);
});

test('rotating a secret: the new one works, the old one does not', async () => {
  const created = dataOf(await g.gql(CREATE, { n: 'to rotate', s: ['read'] }, admin)).createApiClient;
  const { clientId } = created.client;
  const rotated = dataOf(
    await g.gql('mutation($c: String!) { rotateApiClientSecret(clientId: $c) { client { rotatedAt } clientSecret } }', { c: clientId }, admin),
  ).rotateApiClientSecret;
  expect(rotated.client.rotatedAt).toBeTruthy();
  await expect(g.server.services.auth.issueToken(clientId, created.clientSecret)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  expect(await tokenOf(clientId, rotated.clientSecret)).toBeTruthy();
});

describe('audit trail', () => {
  test('who created, changed and deleted what, queryable with filters', async () => {
    const target = dataOf(await g.gql('mutation { createTarget(name: "audited") { id } }', {}, admin)).createTarget;
    const adminId = (await g.server.services.auth.verify(admin)).clientId;
    // Recording happens after the answer: wait for it without sleeping.
    const { until } = await import('./realtime-helpers.ts');
    await until(async () => (await g.server.services.store.listAuditEvents({ targetId: target.id }, { first: 10 })).totalCount > 0);
    const res = dataOf(
      await g.gql(
        'query($f: AuditFilter) { auditEvents(filter: $f, first: 10) { totalCount edges { node { actor action targetIds outcome at } } } }',
        { f: { targetId: target.id } },
        admin,
      ),
    );
    expect(res.auditEvents.edges[0].node).toMatchObject({ actor: adminId, action: 'createTarget', targetIds: [target.id], outcome: 'ok' });

    const revocations = dataOf(await g.gql('{ auditEvents(filter: { action: "revokeApiClient" }) { totalCount } }', {}, admin));
    expect(revocations.auditEvents.totalCount).toBeGreaterThanOrEqual(1);
    // Failed attempts are there too, with who tried.
    const reader = await g.token('read');
    await g.gql('mutation { createTarget(name: "nope") { id } }', {}, reader);
    const readerId = (await g.server.services.auth.verify(reader)).clientId;
    await until(async () => (await g.server.services.store.listAuditEvents({ actor: readerId }, { first: 10 })).totalCount > 0);
    const failed = await g.server.services.store.listAuditEvents({ actor: readerId }, { first: 10 });
    expect(failed.nodes[0]).toMatchObject({ action: 'createTarget', outcome: 'failed' });
    // Only admins read it.
    expect(codesOf(await g.gql('{ auditEvents { totalCount } }', {}, reader))).toEqual(['FORBIDDEN']);
  });
});

test('the CLI creates, revokes and exports the audit trail on the store', async () => {
  const { execFile } = await import('node:child_process');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sec-cli-'));
  const cli = (...args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['scripts/clients.ts', ...args],
        { cwd: path.resolve(import.meta.dirname, '..'), env: { ...process.env, DATA_DIR: dir } },
        (err, out) => (err ? reject(err) : resolve(out)),
      ),
    );
  try {
    const id = /SPECTRO_CLIENT_ID=(\S+)/.exec(await cli('create', 'read train', 'cli-made'))![1]!;
    expect(JSON.parse(await cli('revoke', id)).revokedAt).toBeTruthy();
    const events = (await cli('audit'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.action)).toEqual(['revokeApiClient', 'createApiClient']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
