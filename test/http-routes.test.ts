import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGateway, type Gateway } from './graph-helpers.ts';

const lines: Record<string, any>[] = [];
let g: Gateway;
let client: { clientId: string; clientSecret: string };

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  g = await startGateway({ tokenTtlSeconds: 900 }, { log: pino({ level: 'debug' }, sink) });
  client = await g.server.services.auth.createClient('all', 'routes');
});
afterAll(() => g?.close());

const post = (body: string, contentType: string, headers: Record<string, string> = {}) =>
  g.fetch('/api/auth/token', { method: 'POST', body, headers: { 'content-type': contentType, ...headers } });

describe('POST /api/auth/token', () => {
  test('JSON body, as the REST contract has it', async () => {
    const res = await post(
      JSON.stringify({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }),
      'application/json',
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await res.json();
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    const principal = await g.server.services.auth.verify(`Bearer ${body.access_token}`);
    expect(principal).toMatchObject({ clientId: client.clientId, scope: 'all' });
  });

  test('form-encoded body, and client credentials as HTTP Basic', async () => {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret });
    const res = await post(form.toString(), 'application/x-www-form-urlencoded; charset=utf-8');
    expect(res.status).toBe(200);
    expect((await res.json()).access_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const basic = Buffer.from(`${client.clientId}:${encodeURIComponent(client.clientSecret)}`).toString('base64');
    const viaBasic = await post('grant_type=client_credentials', 'application/x-www-form-urlencoded', { authorization: `Basic ${basic}` });
    expect(viaBasic.status).toBe(200);
  });

  test('refusals: wrong secret 401, wrong grant 400, missing fields 400, other media 415, GET 405', async () => {
    const wrong = await post(JSON.stringify({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: 'x' }), 'application/json');
    expect(wrong.status).toBe(401);
    const body = await wrong.json();
    expect(body).toMatchObject({ error: 'invalid_client', errors: { status: 401, title: 'Unauthorized' } });
    expect(JSON.stringify(body)).not.toContain(client.clientSecret);

    const grant = await post(JSON.stringify({ grant_type: 'password', client_id: 'a', client_secret: 'b' }), 'application/json');
    expect(grant.status).toBe(400);
    expect((await grant.json()).error).toBe('unsupported_grant_type');
    expect((await post(JSON.stringify({ grant_type: 'client_credentials' }), 'application/json')).status).toBe(400);
    expect((await post('[1,2]', 'application/json')).status).toBe(400);
    expect((await post('grant_type=client_credentials', 'text/plain')).status).toBe(415);
    expect((await g.fetch('/api/auth/token')).status).toBe(405);
  });
});

describe('health and readiness', () => {
  test('/health answers 200, /readiness reports the store, pub/sub, the inference worker and free disk space', async () => {
    expect((await g.fetch('/health')).status).toBe(200);
    const ready = await g.fetch('/readiness');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { store: 'up', pubsub: 'up', inference: 'up', disk: 'up' },
      disk: { freeBytes: expect.any(Number), minFreeBytes: g.config.ops.minFreeDiskBytes },
      // No model has been used yet: no admission queue to show.
      predictQueues: {},
    });
  });
});

describe('request ids', () => {
  test("a given x-request-id is echoed and on the request's log lines; otherwise one is made", async () => {
    const token = (await g.server.services.auth.issueToken(client.clientId, client.clientSecret)).accessToken;
    const res = await g.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': 'req-abc-123' },
      body: JSON.stringify({ query: 'mutation { createTarget(name: "logged") { id } }' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-abc-123');
    const access = lines.find((l) => l.msg === 'request' && l.requestId === 'req-abc-123');
    expect(access).toMatchObject({ method: 'POST', path: '/graphql', status: 200 });

    const other = await g.fetch('/readiness', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(other.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // Secrets never reach the log.
    expect(JSON.stringify(lines)).not.toContain(client.clientSecret);
  });
});
