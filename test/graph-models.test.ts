import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ModelStatus } from '../src/runtime/store/types.ts';
import { codesOf, dataOf, startGateway, type Gateway } from './graph-helpers.ts';
import { newModel } from './model-fixtures.ts';

const UNKNOWN = '01890000-0000-7000-8000-000000000000';

let g: Gateway;
let token: string;
let targetId: string;
let algorithms: { id: string }[];

beforeAll(async () => {
  g = await startGateway();
  token = await g.token('all');
  targetId = (await g.server.services.store.createTarget('models', [])).id;
  algorithms = await g.server.services.store.listAlgorithms();
});
afterAll(() => g?.close());

const gql = (query: string, variables?: Record<string, unknown>) => g.gql<any>(query, variables, token);

const createModel = (name: string, status: ModelStatus, algorithm = 0) =>
  g.server.services.store.createModel(
    newModel({
      name,
      algorithmId: algorithms[algorithm]!.id,
      targetId,
      status,
      predictParameters: { threshold: 0.4, ignoreOuter: 0, minDetectedArea: 0 },
      okImageCount: 5,
      ngImageCount: 1,
    }),
  );

describe('models', () => {
  test('algorithms come with their parameters', async () => {
    const res = dataOf(await gql('{ algorithms { id name parameters { name dataType value modelParameter } } }'));
    expect(res.algorithms.length).toBeGreaterThan(0);
    expect(res.algorithms[0].parameters.length).toBeGreaterThan(0);
    const one = dataOf(await gql('query($id: ID!) { algorithm(id: $id) { id } node(id: $id) { __typename } }', { id: res.algorithms[0].id }));
    expect(one).toEqual({ algorithm: { id: res.algorithms[0].id }, node: { __typename: 'Algorithm' } });
  });

  test('lists filter by status, algorithm and target, with totalCount', async () => {
    await createModel('ready-a', 'READY', 0);
    await createModel('failed-a', 'FAILED', 0);
    await createModel('ready-b', 'READY', Math.min(1, algorithms.length - 1));
    const res = dataOf(
      await gql(
        `query($a: ID!, $t: ID!) {
          all: models(targetId: $t) { totalCount }
          ready: models(status: READY) { totalCount edges { node { name status algorithm { id } target { id } } } }
          byAlgorithm: models(algorithmId: $a) { totalCount }
          page: models(first: 1) { edges { node { name } } pageInfo { hasNextPage } }
        }`,
        { a: algorithms[0]!.id, t: targetId },
      ),
    );
    expect(res.all.totalCount).toBe(3);
    expect(res.ready.totalCount).toBe(2);
    expect(res.ready.edges.every((e: any) => e.node.status === 'READY' && e.node.target.id === targetId)).toBe(true);
    expect(res.byAlgorithm.totalCount).toBe(algorithms.length > 1 ? 2 : 3);
    expect(res.page.edges).toHaveLength(1);
    expect(res.page.pageInfo.hasNextPage).toBe(true);
    expect(codesOf(await gql('query($t: ID!) { models(targetId: $t) { totalCount } }', { t: UNKNOWN }))).toEqual(['NOT_FOUND']);
  });

  test('activateModel makes model("active") answer it; only READY models', async () => {
    const model = await createModel('to-activate', 'READY');
    const failed = await createModel('broken', 'FAILED');
    await g.server.services.store.setDefaultTarget(targetId);
    expect(dataOf(await gql('mutation($id: ID!) { activateModel(id: $id) { id active } }', { id: model.id })).activateModel).toEqual({
      id: model.id,
      active: true,
    });
    expect(dataOf(await gql('{ model(id: "active") { id name } }')).model).toEqual({ id: model.id, name: 'to-activate' });
    expect(codesOf(await gql('mutation($id: ID!) { activateModel(id: $id) { id } }', { id: failed.id }))).toEqual(['CONFLICT']);
  });

  test("a target's activation history lists each switch newest first, with what it replaced and who did it", async () => {
    const { store } = g.server.services;
    const own = (await store.createTarget('history', [])).id;
    const make = (name: string) =>
      store.createModel(
        newModel({
          name,
          algorithmId: algorithms[0]!.id,
          targetId: own,
          status: 'READY',
          predictParameters: { threshold: 0.4, ignoreOuter: 0, minDetectedArea: 0 },
          okImageCount: 5,
          ngImageCount: 0,
        }),
      );
    const a = await make('hist-a');
    const b = await make('hist-b');
    const activate = 'mutation($id: ID!) { activateModel(id: $id) { id } }';
    // A, then B, then A again (a rollback); activating the active model again adds no line.
    for (const id of [a.id, b.id, a.id, a.id]) dataOf(await gql(activate, { id }));
    const history = 'query($t: ID!) { target(id: $t) { activations { model { id } previousModel { id } by at } } }';
    const lines = dataOf(await gql(history, { t: own })).target.activations;
    expect(lines.map((l: any) => [l.model.id, l.previousModel?.id ?? null])).toEqual([
      [a.id, b.id],
      [b.id, a.id],
      [a.id, null],
    ]);
    expect(lines.every((l: any) => typeof l.by === 'string' && l.by.length > 0 && !Number.isNaN(Date.parse(l.at)))).toBe(true);
    // A deleted model takes its lines along; a line that names it as the predecessor keeps a null.
    dataOf(await gql('mutation($ids: [ID!]!) { deleteModels(ids: $ids) }', { ids: [b.id] }));
    const after = dataOf(await gql(history, { t: own })).target.activations;
    expect(after.map((l: any) => [l.model.id, l.previousModel?.id ?? null])).toEqual([
      [a.id, null],
      [a.id, null],
    ]);
  });

  test('updatePredictParameters changes only what is given, and checks it', async () => {
    const model = await createModel('tunable', 'READY');
    const update =
      'mutation($id: ID!, $t: Float, $o: Int, $m: Int) { updatePredictParameters(modelId: $id, threshold: $t, ignoreOuter: $o, minDetectedArea: $m) { predictParameters { threshold ignoreOuter minDetectedArea } } }';
    const res = dataOf(await gql(update, { id: model.id, t: 0.7, m: 12 }));
    expect(res.updatePredictParameters.predictParameters).toEqual({ threshold: 0.7, ignoreOuter: 0, minDetectedArea: 12 });
    expect(codesOf(await gql(update, { id: model.id, o: -1 }))).toEqual(['BAD_USER_INPUT']);
    expect(codesOf(await gql(update, { id: UNKNOWN, t: 0.1 }))).toEqual(['NOT_FOUND']);
    expect((await g.server.services.store.modelsByIds([model.id]))[0]!.predictParameters.ignoreOuter).toBe(0);
  });

  test('deleteModels deletes models and their assessments; unknown ids fail the whole call', async () => {
    const { store } = g.server.services;
    const a = await createModel('del-a', 'READY');
    const b = await createModel('del-b', 'FAILED');
    const [item] = await store.addItems([{ name: 'x', targetId, type: 'PREDICTION', good: null, images: [] }]);
    const [assessment] = await store.addAssessments([
      {
        itemId: item!.id,
        modelId: a.id,
        result: 'GOOD',
        label: null,
        score: 0.1,
        threshold: 0.4,
        detectedObjects: 0,
        detectionAccuracy: null,
        annotations: [],
        images: [],
      },
    ]);
    const node = dataOf(await gql('query($id: ID!) { node(id: $id) { __typename ... on Assessment { model { id } item { id } } } }', { id: assessment!.id }));
    expect(node.node).toEqual({ __typename: 'Assessment', model: { id: a.id }, item: { id: item!.id } });

    const mixed = await gql('mutation($ids: [ID!]!) { deleteModels(ids: $ids) }', { ids: [a.id, UNKNOWN] });
    expect(codesOf(mixed)).toEqual(['NOT_FOUND']);
    expect(await store.modelsByIds([a.id])).toHaveLength(1);

    const res = dataOf(await gql('mutation($ids: [ID!]!) { deleteModels(ids: $ids) }', { ids: [a.id, b.id] }));
    expect(new Set(res.deleteModels)).toEqual(new Set([a.id, b.id]));
    expect(await store.modelsByIds([a.id, b.id])).toEqual([]);
    expect(await store.assessmentsByIds([assessment!.id])).toEqual([]);
    expect(codesOf(await gql('query($id: ID!) { model(id: $id) { id } }', { id: a.id }))).toEqual(['NOT_FOUND']);
  });
});
