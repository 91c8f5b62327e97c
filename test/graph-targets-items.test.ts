import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codesOf, dataOf, startGateway, testImage, type Gateway } from './graph-helpers.ts';

const UNKNOWN = '01890000-0000-7000-8000-000000000000';

let g: Gateway;
let token: string;

beforeAll(async () => {
  g = await startGateway();
  token = await g.token('all');
});
afterAll(() => g?.close());

const gql = (query: string, variables?: Record<string, unknown>) => g.gql<any>(query, variables, token);

async function addItems(targetId: string, count: number) {
  const { store } = g.server.services;
  const images = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const bytes = await testImage('png', i + 40);
      return { name: `i${i}.png`, blob: await store.blobs.put(bytes), width: 64, height: 64, fileSize: bytes.length, contentType: 'image/png' };
    }),
  );
  return store.addItems(images.map((image) => ({ name: image.name, targetId, type: 'TRAINING' as const, good: null, images: [image] })));
}

describe('targets', () => {
  let first: any;
  let second: any;

  test('the first target created becomes the default one', async () => {
    first = dataOf(
      await gql(
        'mutation { createTarget(name: "bolts", preprocessing: [{ name: "crop", active: true, config: "{}" }]) { id name isDefault preprocessing { name active config } } }',
      ),
    ).createTarget;
    expect(first).toMatchObject({ name: 'bolts', isDefault: true, preprocessing: [{ name: 'crop', active: true, config: '{}' }] });
    second = dataOf(await gql('mutation { createTarget(name: "nuts") { id isDefault } }')).createTarget;
    expect(second.isDefault).toBe(false);
  });

  test('setDefaultTarget moves the default', async () => {
    const res = dataOf(await gql('mutation($id: ID!) { setDefaultTarget(id: $id) { id isDefault } }', { id: second.id }));
    expect(res.setDefaultTarget).toEqual({ id: second.id, isDefault: true });
    const after = dataOf(await gql('{ defaultTarget { id } targets { id isDefault } }'));
    expect(after.defaultTarget.id).toBe(second.id);
    expect(after.targets.find((t: any) => t.id === first.id).isDefault).toBe(false);
  });

  test('node(id) finds a target by its id, and null for an unknown id', async () => {
    const res = dataOf(
      await gql('query($id: ID!, $u: ID!) { node(id: $id) { __typename id ... on Target { name } } none: node(id: $u) { id } }', { id: first.id, u: UNKNOWN }),
    );
    expect(res.node).toEqual({ __typename: 'Target', id: first.id, name: 'bolts' });
    expect(res.none).toBeNull();
  });

  test('bad names and unknown ids are refused', async () => {
    expect(codesOf(await gql('mutation { createTarget(name: "   ") { id } }'))).toEqual(['BAD_USER_INPUT']);
    const res = await gql('mutation($id: ID!) { setDefaultTarget(id: $id) { id } }', { id: UNKNOWN });
    expect(codesOf(res)).toEqual(['NOT_FOUND']);
    expect(res.errors![0]!.message).toContain(UNKNOWN);
    expect(codesOf(await gql('query($id: ID!) { target(id: $id) { id } }', { id: UNKNOWN }))).toEqual(['NOT_FOUND']);
  });

  test('Target.items pages over both item types', async () => {
    const items = await addItems(first.id, 3);
    await g.server.services.store.addItems([{ name: 'p.png', targetId: first.id, type: 'PREDICTION', good: null, images: [] }]);
    const res = dataOf(
      await gql(
        'query($id: ID!) { target(id: $id) { all: items(first: 3) { totalCount edges { node { type } } pageInfo { hasNextPage } } training: items(type: TRAINING) { totalCount } } }',
        { id: first.id },
      ),
    );
    expect(res.target.all.totalCount).toBe(4);
    expect(res.target.all.edges.map((e: any) => e.node.type)).toEqual(['PREDICTION', 'TRAINING', 'TRAINING']);
    expect(res.target.all.pageInfo.hasNextPage).toBe(true);
    expect(res.target.training.totalCount).toBe(items.length);
  });
});

describe('items', () => {
  let target: any;
  let items: any[];

  beforeAll(async () => {
    target = await g.server.services.store.createTarget('annotated', []);
    items = await addItems(target.id, 3);
  });

  test('annotateItem replaces the user boxes and can set the label', async () => {
    const annotate = `mutation($id: ID!, $a: [AnnotationInput!]!, $good: Boolean, $label: String) {
      annotateItem(id: $id, annotations: $a, good: $good, label: $label) {
        id good userAssessment { label result annotations { xMin xMax yMin yMax label notes } }
      }
    }`;
    const boxes = [
      { xMin: 1, xMax: 10, yMin: 2, yMax: 20, label: 1, notes: 'scratch' },
      { xMin: 30, xMax: 40, yMin: 30, yMax: 40, label: 2, notes: null },
    ];
    const first = dataOf(await gql(annotate, { id: items[0].id, a: boxes, good: false, label: 'scratch' })).annotateItem;
    expect(first.good).toBe(false);
    expect(first.userAssessment).toEqual({ label: 'scratch', result: 'BAD', annotations: boxes });
    const second = dataOf(await gql(annotate, { id: items[0].id, a: [boxes[1]] })).annotateItem;
    expect(second.userAssessment.annotations).toEqual([boxes[1]]);
    expect(second.userAssessment.label).toBe('scratch'); // kept when not given

    const read = dataOf(await gql('query($id: ID!) { item(id: $id) { userAssessment { annotations { notes } } } }', { id: items[0].id }));
    expect(read.item.userAssessment.annotations).toEqual([{ notes: null }]);
  });

  test('bad boxes (inverted, negative, outside the picture) and unknown items are refused, nothing changed', async () => {
    const annotate = 'mutation($id: ID!, $a: [AnnotationInput!]!) { annotateItem(id: $id, annotations: $a) { id } }';
    const inverted = await gql(annotate, { id: items[1].id, a: [{ xMin: 10, xMax: 1 }] });
    expect(codesOf(inverted)).toEqual(['BAD_USER_INPUT']);
    expect(codesOf(await gql(annotate, { id: items[1].id, a: [{ xMin: -5 }] }))).toEqual(['BAD_USER_INPUT']);
    // boxes are in the picture's pixels: one past its edge is a client's mistake (a scaled or swapped box)
    const outside = await gql(annotate, { id: items[1].id, a: [{ xMin: 0, xMax: 5000, yMin: 0, yMax: 4 }] });
    expect(codesOf(outside)).toEqual(['BAD_USER_INPUT']);
    expect(outside.errors![0]!.message).toMatch(/annotations\[0\]\.xMax \(5000\) lies outside the \d+x\d+ picture/);
    expect(codesOf(await gql(annotate, { id: UNKNOWN, a: [] }))).toEqual(['NOT_FOUND']);
    expect(await g.server.services.store.annotationsByOwners('user', [items[1].id])).toEqual([]);
  });

  test('deleteItems deletes and answers the ids; unknown ids fail the whole call', async () => {
    const mixed = await gql('mutation($ids: [ID!]!) { deleteItems(ids: $ids) }', { ids: [items[1].id, UNKNOWN] });
    expect(codesOf(mixed)).toEqual(['NOT_FOUND']);
    expect(mixed.errors![0]!.message).toContain(UNKNOWN);
    expect(await g.server.services.store.itemsByIds([items[1].id])).toHaveLength(1);

    const res = dataOf(await gql('mutation($ids: [ID!]!) { deleteItems(ids: $ids) }', { ids: [items[1].id, items[2].id, items[1].id] }));
    expect(new Set(res.deleteItems)).toEqual(new Set([items[1].id, items[2].id]));
    const after = await gql('query($id: ID!) { item(id: $id) { id } }', { id: items[1].id });
    expect(codesOf(after)).toEqual(['NOT_FOUND']);
    expect(dataOf(await gql('query($t: ID!) { items(type: TRAINING, targetId: $t) { totalCount } }', { t: target.id })).items.totalCount).toBe(1);
  });

  test('assessments(modelId: "active") of a target with no active model is an empty list, not an error', async () => {
    const res = await gql('query($t: ID!) { items(type: TRAINING, targetId: $t) { edges { node { id assessments(modelId: "active") { id } } } } }', {
      t: target.id,
    });
    expect(res.errors).toBeUndefined();
    const nodes = dataOf(res).items.edges.map((e: any) => e.node);
    expect(nodes.length).toBeGreaterThan(0);
    for (const node of nodes) expect(node.assessments).toEqual([]);
  });

  test('deleteItems refuses more than 1000 ids at once, deleting nothing', async () => {
    const ids = [items[0].id, ...Array.from({ length: 1000 }, (_, i) => `01890000-0000-7000-8000-${String(i).padStart(12, '0')}`)];
    const res = await gql('mutation($ids: [ID!]!) { deleteItems(ids: $ids) }', { ids });
    expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors![0]!.message).toContain('at most 1000');
    expect(await g.server.services.store.itemsByIds([items[0].id])).toHaveLength(1);
  });

  test('node(id) finds an item', async () => {
    const res = dataOf(await gql('query($id: ID!) { node(id: $id) { __typename ... on Item { name } } }', { id: items[0].id }));
    expect(res.node).toEqual({ __typename: 'Item', name: 'i0.png' });
  });
});
