import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { graphqlJit, JIT_AFTER_RUNS } from '../src/http/graphql-jit.ts';
import { schema } from '../src/schema/index.ts';
import { type Gateway, startGateway, testImage } from './graph-helpers.ts';

const UNKNOWN = '01890000-0000-7000-8000-000000000000';

/** The same data in two gateways, one executing with graphql-jit (the default), one with graphql-js. */
let jit: Gateway;
let plain: Gateway;
const tokens = new Map<Gateway, string>();

async function seed(g: Gateway) {
  tokens.set(g, await g.token('all'));
  const { store } = g.server.services;
  const target = await store.createTarget('bolts', []);
  await store.createTarget('nuts', []);
  for (let i = 0; i < 3; i++) {
    const bytes = await testImage('png', i + 7);
    const image = { name: `p${i}.png`, blob: await store.blobs.put(bytes), width: 64, height: 64, fileSize: bytes.length, contentType: 'image/png' };
    await store.addItems([{ name: image.name, targetId: target.id, type: i === 0 ? 'TRAINING' : 'PREDICTION', good: i === 0 ? true : null, images: [image] }]);
  }
}

beforeAll(async () => {
  jit = await startGateway();
  plain = await startGateway({ ops: { ...loadConfig({}).ops, graphqlJit: false } });
  await seed(jit);
  await seed(plain);
});
afterAll(async () => {
  await jit?.close();
  await plain?.close();
});

/** What may differ between two installations: ids, signed links, times. */
const comparable = (body: unknown) =>
  JSON.parse(
    JSON.stringify(body)
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
      .replace(/https?:\/\/[^"]*\/files\/[^"]+/g, '<signed url>')
      .replace(/"(createdAt|updatedAt)":"[^"]+"/g, '"$1":"<time>"')
      .replace(/"(cursor|endCursor|startCursor|id)":"[^"]+"/g, '"$1":"<opaque>"'),
  );

const OPERATIONS: [string, string, Record<string, unknown>?][] = [
  [
    'a nested dashboard read',
    '{ targets { name isDefault items(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name type images { url width height } } } } } }',
  ],
  [
    'variables and a type filter',
    'query($n: Int, $t: ItemType) { items(type: $t, first: $n) { totalCount edges { node { name good } } } }',
    { n: 5, t: 'PREDICTION' },
  ],
  ['a node that does not exist (null)', 'query($id: ID!) { node(id: $id) { id } }', { id: UNKNOWN }],
  ['an error in one field, data in the others', 'query($id: ID!) { targets { name } item(id: $id) { id } }', { id: UNKNOWN }],
  ['an error on a later line (its location)', 'query($id: ID!) {\r\n  targets { name }\n\n    item(id: $id) { id }\n}', { id: UNKNOWN }],
  ['a variable of the wrong type', 'query($n: Int) { items(type: TRAINING, first: $n) { totalCount } }', { n: 'ten' }],
  ['a missing required variable', 'query($id: ID!) { node(id: $id) { id } }', {}],
  ['a bad argument', '{ items(type: TRAINING, first: 1000) { totalCount } }'],
  ['a bad cursor', '{ targets { items(after: "not-a-cursor") { totalCount } } }'],
  ['a failing mutation', 'mutation { createTarget(name: "  ") { id } }'],
];

describe('graphql-jit answers as graphql-js does', () => {
  test.each(OPERATIONS)('%s: the same status, data and errors on every run', async (_name, query, variables) => {
    // The first runs go through graphql-js, later ones through the compiled operation.
    for (let run = 1; run <= JIT_AFTER_RUNS + 2; run++) {
      const a = await jit.gql(query, variables, tokens.get(jit));
      const b = await plain.gql(query, variables, tokens.get(plain));
      expect(a.status).toBe(b.status);
      expect(comparable({ data: a.data, errors: a.errors })).toEqual(comparable({ data: b.data, errors: b.errors }));
    }
  });

  test('a mutation run many times creates what graphql-js creates', async () => {
    for (let i = 0; i < JIT_AFTER_RUNS + 2; i++) {
      const q = 'mutation($n: String!) { createTarget(name: $n) { name isDefault items { totalCount } } }';
      const a = await jit.gql(q, { n: `line ${i}` }, tokens.get(jit));
      const b = await plain.gql(q, { n: `line ${i}` }, tokens.get(plain));
      expect(a.data).toEqual(b.data);
    }
    expect((await jit.server.services.store.listTargets()).map((t) => t.name)).toEqual((await plain.server.services.store.listTargets()).map((t) => t.name));
  });
});

describe('compilation', () => {
  /** Runs the plugin's execute hook as Yoga would, and says whether it switched to compiled execution. */
  const compiledOn = (plugin: ReturnType<typeof graphqlJit>[number], document: ReturnType<typeof parse>) => {
    let compiled = false;
    (plugin.onExecute as any)({ args: { schema, document, contextValue: {} }, setExecuteFn: () => (compiled = true) });
    return compiled;
  };

  test(`compiles a document from its run ${JIT_AFTER_RUNS} on, never a one-off document`, () => {
    const [plugin] = graphqlJit(true, () => {});
    const repeated = parse('{ targets { id } }');
    const runs = Array.from({ length: JIT_AFTER_RUNS + 2 }, () => compiledOn(plugin!, repeated));
    expect(runs).toEqual(Array.from({ length: JIT_AFTER_RUNS + 2 }, (_, i) => i + 1 >= JIT_AFTER_RUNS));
    // The same text parsed anew (not from Yoga's parser cache) is a new document: counted anew.
    expect(compiledOn(plugin!, parse('{ targets { id } }'))).toBe(JIT_AFTER_RUNS <= 1);
  });

  test('GRAPHQL_JIT=off leaves execution to graphql-js; other values are refused at start', () => {
    expect(graphqlJit(false, () => {})).toEqual([]);
    expect(loadConfig({}).ops.graphqlJit).toBe(true);
    expect(loadConfig({ GRAPHQL_JIT: 'OFF' }).ops.graphqlJit).toBe(false);
    expect(() => loadConfig({ GRAPHQL_JIT: 'fast' })).toThrow(/GRAPHQL_JIT must be one of on, off/);
  });
});
