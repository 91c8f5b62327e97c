import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from './graph-helpers.ts';
import { rawSocket } from './ws-raw.ts';

// graphql-ws on the real gateway (its schema, armor limits and auth), one socket per test.
let g: Gateway;
let wsUrl: string;
beforeAll(async () => {
  g = await startGateway();
  const { url } = await g.server.start();
  wsUrl = `${url.replace(/^http/, 'ws')}/graphql`;
});
afterAll(() => g?.close());

async function socket(scope: 'read' | 'all') {
  const s = await rawSocket(wsUrl);
  /** The next message of operation `id` (or of type `type` when id is null); rejects when the socket closes first. */
  const take = (id: string | null, type?: string) =>
    Promise.race([s.take(id === null ? type! : (m) => m.id === id), s.closed.then((c) => Promise.reject(new Error(`socket closed ${c.code} ${c.reason}`)))]);
  s.send({ type: 'connection_init', payload: { authorization: `Bearer ${await g.token(scope)}` } });
  await take(null, 'connection_ack');
  const run = (id: string, query: string) => s.send({ id, type: 'subscribe', payload: { query } });
  return { ws: s.ws, run, take };
}

describe('graphql-ws operations on the gateway', () => {
  it('answers a syntax error, an unknown field, a limit breach and a missing variable with BAD_USER_INPUT for that operation, keeping the socket open', async () => {
    const s = await socket('read');
    const deep = `subscription { predictionResults { ${'item { target { models { edges { node { '.repeat(3)}id${' } } } } }'.repeat(3)} } }`;
    const cases = {
      syntax: 'subscription { trainingProgress( }',
      unknown: 'subscription { nope }',
      deep,
    };
    for (const [id, query] of Object.entries(cases)) {
      s.run(id, query);
      const answer = await s.take(id);
      expect(answer.type, id).toBe('error');
      expect(answer.payload[0].extensions.code, id).toBe('BAD_USER_INPUT');
    }
    // A variable that does not fit runs nothing either; same code as over HTTP.
    s.run('vars', 'subscription($m: ID!) { trainingProgress(modelId: $m) { progress } }');
    const vars = await s.take('vars');
    expect(vars.payload.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    // Still usable afterwards.
    s.run('q', '{ targets { name } }');
    expect(await s.take('q')).toMatchObject({ type: 'next', payload: { data: { targets: [] } } });
    s.ws.close(1000);
  });

  it("runs a mutation over the socket under the token's scope (not refused as a mutation via GET)", async () => {
    const reader = await socket('read');
    reader.run('m', 'mutation { createTarget(name: "over-ws-read") { id } }');
    const refused = await reader.take('m');
    expect(refused).toMatchObject({ type: 'next', payload: { data: null } });
    expect(refused.payload.errors[0].extensions.code).toBe('FORBIDDEN');

    const writer = await socket('all');
    writer.run('m', 'mutation { createTarget(name: "over-ws") { name } }');
    expect(await writer.take('m')).toMatchObject({ type: 'next', payload: { data: { createTarget: { name: 'over-ws' } } } });
    reader.run('q', '{ targets { name } }');
    expect(await reader.take('q')).toMatchObject({ payload: { data: { targets: [{ name: 'over-ws' }] } } });
    reader.ws.close(1000);
    writer.ws.close(1000);
  });
});
