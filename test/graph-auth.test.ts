import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createAuth, TOKEN_AUDIENCE, TOKEN_ISSUER } from '../src/runtime/auth/auth.ts';
import { codesOf, dataOf, startGateway, type Gateway } from './graph-helpers.ts';

const TOKEN = /* GraphQL */ `
  mutation Token($id: String!, $secret: String!) {
    token(clientId: $id, clientSecret: $secret) { accessToken tokenType expiresIn }
  }
`;

let g: Gateway;
let client: { clientId: string; clientSecret: string };

beforeAll(async () => {
  g = await startGateway({ tokenTtlSeconds: 600 });
  client = await g.server.services.auth.createClient('all', 'auth-test');
});
afterAll(() => g?.close());

describe('token mutation', () => {
  test('good credentials give a bearer token that opens the graph', async () => {
    const { token } = dataOf(await g.gql<any>(TOKEN, { id: client.clientId, secret: client.clientSecret }));
    expect(token.tokenType).toBe('Bearer');
    expect(token.expiresIn).toBe(600);
    const res = await g.gql('{ targets { id } }', {}, token.accessToken);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ targets: [] });
  });

  test('works even when a stale Authorization header comes along', async () => {
    const res = await g.gql(TOKEN, { id: client.clientId, secret: client.clientSecret }, 'not-a-token');
    expect(res.errors).toBeUndefined();
  });

  test('wrong secret and unknown client are UNAUTHENTICATED with one message', async () => {
    const wrong = await g.gql(TOKEN, { id: client.clientId, secret: 'nope' });
    const unknown = await g.gql(TOKEN, { id: 'spc_unknown', secret: client.clientSecret });
    expect(codesOf(wrong)).toEqual(['UNAUTHENTICATED']);
    expect(codesOf(unknown)).toEqual(['UNAUTHENTICATED']);
    expect(wrong.errors![0]!.message).toBe(unknown.errors![0]!.message);
    expect(wrong.data).toBeNull();
    expect(wrong.status).toBe(401);
  });
});

describe('tokens on other operations', () => {
  test('no token: UNAUTHENTICATED', async () => {
    const res = await g.gql('{ targets { id } }');
    expect(codesOf(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.status).toBe(401);
  });

  test('malformed token: UNAUTHENTICATED', async () => {
    const res = await g.gql('{ targets { id } }', {}, 'abc.def');
    expect(codesOf(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.errors![0]!.message).toMatch(/malformed/);
  });

  test('expired token: UNAUTHENTICATED saying so', async () => {
    // Same store, so the same signing key; issued two hours ago with a ten-minute life.
    const past = await createAuth({ store: g.server.services.store, config: g.config, now: () => Date.now() - 2 * 3600_000 });
    const { accessToken } = await past.issueToken(client.clientId, client.clientSecret);
    const res = await g.gql('{ targets { id } }', {}, accessToken);
    expect(codesOf(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.errors![0]!.message).toMatch(/expired/);
  });

  test('forged token (other key) and tampered token (scope raised): UNAUTHENTICATED', async () => {
    const iat = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ scope: 'all' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(client.clientId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 600)
      .setJti('forged')
      .sign(new TextEncoder().encode('an attacker key that is long enough!!'));
    const readToken = await g.token('read');
    const [h, p, s] = readToken.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const tampered = [h, Buffer.from(JSON.stringify({ ...payload, scope: 'all' })).toString('base64url'), s].join('.');

    for (const token of [forged, tampered]) {
      const res = await g.gql('mutation { createTarget(name: "x") { id } }', {}, token);
      expect(codesOf(res)).toEqual(['UNAUTHENTICATED']);
    }
    expect(await g.server.services.store.listTargets()).toEqual([]);
  });

  test('read scope may query but not mutate (FORBIDDEN, nothing stored)', async () => {
    const token = await g.token('read');
    const query = await g.gql('{ targets { id } algorithms { id } nodeHash }', {}, token);
    expect(query.errors).toBeUndefined();
    const res = await g.gql('mutation { createTarget(name: "blocked") { id } }', {}, token);
    expect(codesOf(res)).toEqual(['FORBIDDEN']);
    expect(res.status).toBe(403);
    expect(await g.server.services.store.listTargets()).toEqual([]);
  });
});
