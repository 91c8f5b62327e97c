import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dataOf, startGateway, testImage, type Gateway } from './graph-helpers.ts';
import { newModel } from './model-fixtures.ts';
import { ENGINES } from './store-engines.ts';

// Connections under a list of targets: one page per target, but not one store read per target.
const TARGETS = /* GraphQL */ `
  {
    targets {
      name
      all: items(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { name images { url } } } }
      training: items(type: TRAINING, first: 5) { totalCount edges { node { name } } }
      models(first: 5) { totalCount edges { node { name algorithm { name parameters { name } } target { name } } } }
    }
  }
`;
const MODELS = /* GraphQL */ `
  {
    models(first: 100) {
      edges { node { name algorithm { parameters { name } } target { name items(first: 1) { totalCount } models { totalCount } } } }
    }
  }
`;

// The same queries and the same read counts on both engines.
describe.each(ENGINES)('on %s', (engine) => {
  let g: Gateway;
  let token: string;
  let image: { name: string; blob: string; width: number; height: number; fileSize: number; contentType: string };

  async function addTargets(n: number) {
    const { store } = g.server.services;
    const [algorithm] = await store.listAlgorithms();
    for (let t = 0; t < n; t++) {
      const target = await store.createTarget(`target-${(await store.listTargets()).length}`, []);
      await store.addItems(
        ['TRAINING', 'PREDICTION', 'TRAINING'].map((type, i) => ({
          name: `${target.name}-${i}`,
          targetId: target.id,
          type: type as 'TRAINING',
          good: true,
          images: [image],
        })),
      );
      for (const name of ['m1', 'm2']) {
        await store.createModel(newModel({ name, algorithmId: algorithm!.id, targetId: target.id }));
      }
    }
  }

  async function readsFor(query: string) {
    const { stats } = g.server.services.store;
    const before = stats.reads;
    const data = dataOf(await g.gql<any>(query, {}, token));
    return { reads: stats.reads - before, data };
  }

  beforeAll(async () => {
    g = await startGateway({}, { engine });
    token = await g.token('read');
    const blob = await g.server.services.store.blobs.put(await testImage('png', 1));
    image = { name: 'a.png', blob, width: 64, height: 64, fileSize: 1, contentType: 'image/png' };
  });
  afterAll(() => g?.close());

  test('targets { items models } and models { target { items models } } make as many store reads for 10 targets as for 1', async () => {
    await addTargets(1);
    const one = await readsFor(TARGETS);
    const oneModels = await readsFor(MODELS);
    await addTargets(9);
    const ten = await readsFor(TARGETS);
    const tenModels = await readsFor(MODELS);

    expect(ten.data.targets).toHaveLength(10);
    const last = ten.data.targets[9];
    // Both types, newest first, two of three with a next page.
    expect(last.all.totalCount).toBe(3);
    expect(last.all.edges.map((e: any) => e.node.name)).toEqual([`${last.name}-2`, `${last.name}-1`]);
    expect(last.all.pageInfo).toEqual({ hasNextPage: true, endCursor: last.all.edges[1].cursor });
    expect(last.training.totalCount).toBe(2);
    expect(last.training.edges.map((e: any) => e.node.name)).toEqual([`${last.name}-2`, `${last.name}-0`]);
    expect(last.models.totalCount).toBe(2);
    expect(last.models.edges.map((e: any) => e.node.target.name)).toEqual([last.name, last.name]);
    expect(tenModels.data.models.edges).toHaveLength(20);
    expect(tenModels.data.models.edges[0].node.target).toMatchObject({ items: { totalCount: 3 }, models: { totalCount: 2 } });

    console.info(`store reads: targets ${one.reads} -> ${ten.reads}, models ${oneModels.reads} -> ${tenModels.reads}`);
    // The token's client is read at most once a second (the live check that refuses revoked
    // clients, docs/security.md): a request may make that one read more than the other.
    expect(Math.abs(ten.reads - one.reads)).toBeLessThanOrEqual(1);
    expect(Math.abs(tenModels.reads - oneModels.reads)).toBeLessThanOrEqual(1);
  });

  test("the next page of a target's items follows its endCursor", async () => {
    const first = dataOf(await g.gql<any>('{ targets { items(first: 2) { pageInfo { endCursor } } } }', {}, token));
    const after = first.targets[0].items.pageInfo.endCursor;
    const next = dataOf(
      await g.gql<any>(
        'query($after: String) { targets { name items(first: 2, after: $after) { pageInfo { hasNextPage } edges { node { name } } } } }',
        { after },
        token,
      ),
    );
    const t0 = next.targets[0];
    expect(t0.items.edges.map((e: any) => e.node.name)).toEqual([`${t0.name}-0`]);
    expect(t0.items.pageInfo.hasNextPage).toBe(false);
  });

  test('items across targets with assessments(modelId: "active") make as many store reads for 10 targets as for 1', async () => {
    const { store } = g.server.services;
    const query = '{ items(type: TRAINING, first: 100) { edges { node { target { name } assessments(modelId: "active") { score } } } } }';
    const targets = await store.listTargets();
    // Every target gets an active model and one assessment by it.
    for (const target of targets) {
      const [model] = (await store.listModels({ targetId: target.id }, { first: 1 })).nodes;
      await store.activateModel(model!.id);
      const [item] = (await store.listItems({ targetId: target.id, type: 'TRAINING' }, { first: 1 })).nodes;
      await store.addAssessments([
        {
          itemId: item!.id,
          modelId: model!.id,
          result: 'GOOD',
          label: null,
          score: 0.25,
          threshold: 0.5,
          detectedObjects: 0,
          detectionAccuracy: null,
          annotations: [],
          images: [],
        },
      ]);
    }
    const one = await readsFor(
      `{ items(type: TRAINING, first: 100, targetId: "${targets[0]!.id}") { edges { node { target { name } assessments(modelId: "active") { score } } } } }`,
    );
    const all = await readsFor(query);
    expect(one.data.items.edges).toHaveLength(2);
    expect(all.data.items.edges).toHaveLength(20);
    expect(all.data.items.edges.filter((e: any) => e.node.assessments.length === 1)).toHaveLength(10);
    console.info(`store reads: one target ${one.reads}, ten targets ${all.reads}`);
    expect(Math.abs(all.reads - one.reads)).toBeLessThanOrEqual(1); // the client's live check, see above
  });
});
