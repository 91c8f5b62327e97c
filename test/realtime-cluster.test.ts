import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Topics } from '../src/runtime/pubsub/topics.ts';
import { addPictures, record, startCluster, subscribed, subscribers } from './realtime-cluster.ts';
import { deferred, killConnections, numsub, REDIS_URL, until } from './realtime-helpers.ts';

type Cluster = Awaited<ReturnType<typeof startCluster>>;
let cl: Cluster;
const admin = new Redis(REDIS_URL);
let modelId = '';
let targetId = '';

beforeAll(async () => {
  cl = await startCluster();
  await cl.addTraining('plate', 6, true);
  await cl.addTraining('plate', 2, false, { kind: 'spot', size: 'large', contrast: 'high' }, 100);
  targetId = (await cl.a.server.services.store.defaultTarget())!.id;
});
afterAll(async () => {
  await cl?.close();
  await admin.quit();
});

const PROGRESS = /* GraphQL */ `
  subscription ($modelId: ID) {
    trainingProgress(modelId: $modelId) { model { id name status } progress stage status message }
  }
`;

describe('realtime across two gateway instances on Redis', () => {
  it('a graphql-ws client on B gets every trainingProgress step of a training started on A, in order, ending READY', async () => {
    // What A publishes, heard in-process on A, to compare with what reaches B's client.
    const published: Topics['trainingProgress'][] = [];
    const onA = cl.a.server.services.pubsub.subscribe('trainingProgress');
    const hearing = (async () => {
      for await (const e of onA) {
        published.push(e);
        if (e.status === 'READY' || e.status === 'FAILED') break;
      }
    })();
    const client = cl.client(cl.b);
    const before = subscribers(cl.b);
    let id = '';
    const all = record(client, PROGRESS, {}, (r) =>
      r.some((d: any) => d.trainingProgress.model.id === id && d.trainingProgress.status !== 'QUEUED' && d.trainingProgress.status !== 'TRAINING'),
    );
    await subscribed(cl.b, before);
    await onA.ready;

    const started = await cl.a.gql(
      'mutation ($t: ID) { trainModel(algorithmId: "pattern-matching", targetId: $t, overrideParams: [{ name: "input_size", value: "48" }]) { id status } }',
      { t: targetId },
      cl.token,
    );
    id = started.data.trainModel.id;
    modelId = id;
    // The same model, subscribed by id after trainModel answered: the current state first.
    const byId = record(cl.client(cl.b), PROGRESS, { modelId: id });

    await hearing;
    await onA.return();
    const events = (await all.done).filter((r) => r.data?.trainingProgress.model.id === id).map((r) => r.data!.trainingProgress);
    expect(events.map((e: any) => [e.status, e.progress, e.stage])).toEqual(published.map((e) => [e.status, e.progress, e.stage]));
    expect(events[0].status).toBe('QUEUED');
    expect(events.at(-1)).toMatchObject({ status: 'READY', progress: 1, model: { id, status: 'READY' } });
    expect(events.length).toBeGreaterThan(3);

    const steps = (await byId.done).map((r) => r.data!.trainingProgress);
    expect(steps.at(-1)).toMatchObject({ status: 'READY', progress: 1 });
    for (let i = 1; i < steps.length; i++) expect(steps[i].progress).toBeGreaterThanOrEqual(steps[i - 1].progress);
    // After READY the subscription completed and let its channel go.
    await until(async () => (await numsub(admin, `${cl.prefix}trainingProgress:${id}`)) === 0);
  });

  it('trainingProgress of a finished model answers its final state and completes', async () => {
    const r = await record(cl.client(cl.b), PROGRESS, { modelId }).done;
    expect(r.map((x) => x.data?.trainingProgress)).toEqual([
      expect.objectContaining({ status: 'READY', progress: 1, model: expect.objectContaining({ id: modelId }) }),
    ]);
  });

  it('predictionResults for predictions made on A arrive on B with fresh nested fields', async () => {
    const items = await addPictures(cl.a, targetId, 'plate', 3, { type: 'PREDICTION', good: null, seed: 500 });
    const query = /* GraphQL */ `
      subscription ($m: ID, $t: ID) {
        predictionResults(modelId: $m, targetId: $t) {
          assessment { id result score annotations { xMin } model { id name } }
          item { id name images { url } assessments { id } }
        }
      }
    `;
    const before = subscribers(cl.b);
    const byModel = record(cl.client(cl.b), query, { m: modelId }, (r) => r.length === 3);
    const byTarget = record(cl.client(cl.b), query, { t: targetId }, (r) => r.length === 3);
    const otherTarget = await cl.a.server.services.store.createTarget('line 2', []);
    const elsewhere = record(cl.client(cl.b), query, { t: otherTarget.id });
    await subscribed(cl.b, before, 3);

    const predicted = await cl.a.gql(
      'mutation ($m: ID!, $ids: [ID!]!) { predict(modelId: $m, itemIds: $ids) { id item { id } } }',
      { m: modelId, ids: items.map((i) => i.id) },
      cl.token,
    );
    expect(predicted.errors).toBeUndefined();
    for (const sub of [byModel, byTarget]) {
      const results = (await sub.done).map((r) => {
        expect(r.errors).toBeUndefined();
        return r.data!.predictionResults;
      });
      expect(results.map((r: any) => r.assessment.id).sort()).toEqual(predicted.data.predict.map((a: any) => a.id).sort());
      for (const r of results) {
        expect(r.assessment.model).toEqual({ id: modelId, name: expect.any(String) });
        expect(Array.isArray(r.assessment.annotations)).toBe(true);
        expect(r.item.images[0].url).toMatch(/^http/);
        // Loaders are cleared per event: the item already lists the assessment just stored.
        expect(r.item.assessments.map((a: any) => a.id)).toContain(r.assessment.id);
      }
    }
    expect(elsewhere.results).toEqual([]);
    elsewhere.stop();
  });

  it('"active" resolves to the active model when the subscription starts', async () => {
    await cl.a.gql('mutation ($m: ID!) { activateModel(id: $m) { id active } }', { m: modelId }, cl.token);
    const progress = await record(cl.client(cl.b), PROGRESS, { modelId: 'active' }).done;
    expect(progress.map((r) => r.data?.trainingProgress.model.id)).toEqual([modelId]);

    const items = await addPictures(cl.a, targetId, 'plate', 1, { type: 'PREDICTION', good: null, seed: 900 });
    const before = subscribers(cl.b);
    const active = record(cl.client(cl.b), 'subscription { predictionResults(modelId: "active") { assessment { model { id } } } }', {}, (r) => r.length === 1);
    const mismatch = await record(cl.client(cl.b), 'subscription ($t: ID) { predictionResults(modelId: "active", targetId: $t) { item { id } } }', {
      t: (await cl.a.server.services.store.createTarget('no models', [])).id,
    }).done;
    expect(mismatch[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await subscribed(cl.b, before);
    await cl.a.gql('mutation ($ids: [ID!]!) { predict(modelId: "active", itemIds: $ids) { id } }', { ids: items.map((i) => i.id) }, cl.token);
    expect((await active.done).map((r) => r.data?.predictionResults.assessment.model.id)).toEqual([modelId]);
  });

  it('the same over SSE (Authorization header), and SSE without a token is refused', async () => {
    const items = await addPictures(cl.a, targetId, 'plate', 2, { type: 'PREDICTION', good: null, seed: 700 });
    const query = `subscription { predictionResults(modelId: "${modelId}") { assessment { id model { id } } item { id images { url } } } }`;
    const refused = await fetch(`${cl.b.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-graphql-yoga-csrf': '1' },
      body: JSON.stringify({ query }),
    });
    const refusedBody = await refused.text();
    expect(refusedBody).toContain('UNAUTHENTICATED');
    expect(refusedBody).not.toContain('"assessment"');

    const ac = new AbortController();
    const res = await fetch(`${cl.b.url}/graphql`, {
      method: 'POST',
      signal: ac.signal,
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${cl.token}`,
        'x-graphql-yoga-csrf': '1',
      },
      body: JSON.stringify({ query }),
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const got: any[] = [];
    const two = deferred();
    (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body!) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5))
            .join('');
          if (block.startsWith('event: next') && data) got.push(JSON.parse(data));
          if (got.length === 2) two.resolve();
        }
      }
    })().catch(() => {});
    await until(async () => (await numsub(admin, `${cl.prefix}predictionResult:${modelId}`)) === 1);
    await cl.a.gql(
      'mutation ($m: ID!, $ids: [ID!]!) { requestPrediction(modelId: $m, itemIds: $ids) { __typename } }',
      { m: modelId, ids: items.map((i) => i.id) },
      cl.token,
    );
    await two.promise;
    ac.abort();
    expect(got.map((g) => g.data.predictionResults.item.id).sort()).toEqual(items.map((i) => i.id).sort());
    expect(got[0].data.predictionResults.assessment.model.id).toBe(modelId);
    // The aborted stream lets its channel go.
    await until(async () => (await numsub(admin, `${cl.prefix}predictionResult:${modelId}`)) === 0);
  });

  it('refuses a WebSocket without a token, or with a bad one, with 4403', async () => {
    for (const authorization of [null, 'Bearer not.a.token']) {
      const closed = deferred<{ code: number }>();
      const c = cl.client(cl.b, authorization);
      c.on('closed', (e) => closed.resolve(e as { code: number }));
      expect((await closed.promise).code).toBe(4403);
    }
  });

  it('keeps delivering after Redis connections are killed mid-stream (CLIENT KILL)', async () => {
    const key = 'kill-test';
    const query = `subscription { trainingProgress { model { id } progress stage } }`;
    const before = subscribers(cl.b);
    const sub = record(cl.client(cl.b), query);
    await subscribed(cl.b, before);
    const publish = (n: number) =>
      cl.a.server.services.pubsub.publish('trainingProgress', key, {
        modelId,
        progress: n / 10,
        stage: `kill ${n}`,
        status: 'TRAINING',
        message: null,
        at: new Date().toISOString(),
      });
    const stages = () => sub.results.map((r) => r.data?.trainingProgress.stage);
    await publish(1);
    await until(() => stages().includes('kill 1'));
    expect(await killConnections(admin, cl.prefix, 'sub')).toBe(2); // as CLIENT KILL TYPE pubsub would
    await until(() => cl.a.server.services.pubsub.health() === 'up' && cl.b.server.services.pubsub.health() === 'up');
    await subscribed(cl.b, before);
    await publish(2);
    await until(() => stages().includes('kill 2'));
    // Every connection of the prefix, publishers too (and the job queue's: at least the 4 of pub/sub).
    expect(await killConnections(admin, cl.prefix)).toBeGreaterThanOrEqual(4);
    await until(() => cl.a.server.services.pubsub.health() === 'up' && cl.b.server.services.pubsub.health() === 'up');
    await publish(3);
    await until(() => stages().includes('kill 3'));
    // Meanwhile queries kept working and readiness reflects the transport.
    expect((await fetch(`${cl.b.url}/readiness`)).status).toBe(200);
    sub.stop();
  });
});
