import fs from 'node:fs';
import { expect, test } from 'vitest';
import { printedSchema, SCHEMA_FILE } from '../scripts/print-schema.ts';

test('schema.graphql is the printed schema (run `npm run print-schema` after changing the graph)', () => {
  expect(fs.readFileSync(SCHEMA_FILE, 'utf8')).toBe(printedSchema());
});

test('the contract names are all in the schema', () => {
  const sdl = printedSchema();
  for (const name of [
    'interface Node',
    'type Target implements Node',
    'type Algorithm implements Node',
    'type AlgorithmParameter',
    'enum ModelStatus',
    'type Model implements Node',
    'enum ItemType',
    'type Item implements Node',
    'type Image',
    'enum AssessmentResult',
    'type Assessment implements Node',
    'type UserAssessment',
    'type Annotation',
    'scalar DateTime',
    'scalar File',
  ]) {
    expect(sdl).toContain(name);
  }
  for (const field of [
    'node(id: ID!): Node',
    'targets: [Target!]!',
    'defaultTarget: Target',
    'nodeHash: String!',
    'license: License',
    'token(clientId: String!, clientSecret: String!): Token!',
    'deleteItems(ids: [ID!]!): [ID!]!',
    'deleteModels(ids: [ID!]!): [ID!]!',
  ]) {
    expect(sdl).toContain(field);
  }
});
