import fs from 'node:fs';
import { isNonNullType, type ObjectTypeDefinitionNode, parse, print } from 'graphql';
import { expect, test } from 'vitest';
import { printedSchema, SCHEMA_FILE } from '../scripts/print-schema.ts';
import { schema } from '../src/schema/index.ts';

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

/**
 * The contract's root fields (../shared/spec/graphql-contract.md, "Query", "Mutation",
 * "Subscription" and the later additions), as written there: a client written from that document
 * alone must be able to send each of them as is.
 */
const CONTRACT = /* GraphQL */ `
type Query {
  node(id: ID!): Node
  targets: [Target!]!
  target(id: ID!): Target
  defaultTarget: Target
  algorithms: [Algorithm!]!
  algorithm(id: ID!): Algorithm
  models(algorithmId: ID, targetId: ID, status: ModelStatus, first: Int, after: String): ModelConnection!
  model(id: ID!): Model
  items(type: ItemType!, targetId: ID, modelId: ID, first: Int, after: String): ItemConnection!
  item(id: ID!): Item
  license: License
  nodeHash: String!
  predictionJob(id: ID!): PredictionJob
  webhooks(targetId: ID): [Webhook!]!
  webhookDeliveries(webhookId: ID!, first: Int, after: String): WebhookDeliveryConnection!
  auditEvents(filter: AuditFilter, first: Int, after: String): AuditEventConnection!
}
type Mutation {
  token(clientId: String!, clientSecret: String!): Token!
  createTarget(name: String!, preprocessing: [PreprocessingInput!]): Target!
  setDefaultTarget(id: ID!): Target!
  addItems(files: [File!]!, training: Boolean!, good: Boolean, targetId: ID, modelId: ID): AddItemsPayload!
  annotateItem(id: ID!, annotations: [AnnotationInput!]!): Item!
  deleteItems(ids: [ID!]!): [ID!]!
  trainModel(algorithmId: ID!, name: String, itemIds: [ID!], overrideParams: [OverrideParamInput!], targetId: ID): Model!
  cancelTraining(modelId: ID!): Model!
  activateModel(id: ID!): Model!
  deleteModels(ids: [ID!]!): [ID!]!
  updatePredictParameters(modelId: ID!, threshold: Float, ignoreOuter: Int, minDetectedArea: Int): Model!
  predict(modelId: ID!, itemIds: [ID!]!): [Assessment!]!
  predictImages(modelId: ID!, files: [File!]!): [Assessment!]!
  requestPrediction(modelId: ID!, itemIds: [ID!]!): PredictionJob!
  exportModels(ids: [ID!]!): Download!
  importModels(file: File!): [Model!]!
  exportModelResults(modelIds: [ID!]!): Download!
  setLicense(file: File!): License!
  createWebhook(input: CreateWebhookInput!): Webhook!
  updateWebhook(id: ID!, input: UpdateWebhookInput!): Webhook!
  deleteWebhook(id: ID!): ID!
  redeliverWebhook(deliveryId: ID!): WebhookDelivery!
}
type Subscription {
  trainingProgress(modelId: ID): TrainingProgress!
  predictionResults(modelId: ID, targetId: ID): PredictionResult!
}
`;

test('every root field of the contract can be sent as the contract writes it: same arguments and types (an input may be looser, an output stricter)', () => {
  const roots = { Query: schema.getQueryType()!, Mutation: schema.getMutationType()!, Subscription: schema.getSubscriptionType()! };
  const problems: string[] = [];
  for (const def of parse(CONTRACT).definitions as ObjectTypeDefinitionNode[]) {
    const root = roots[def.name.value as keyof typeof roots];
    for (const field of def.fields ?? []) {
      const name = `${def.name.value}.${field.name.value}`;
      const actual = root.getFields()[field.name.value];
      if (!actual) {
        problems.push(`${name} is missing`);
        continue;
      }
      const want = print(field.type);
      const got = String(actual.type);
      if (got !== want && got !== `${want}!`) problems.push(`${name} returns ${got}, the contract says ${want}`);
      for (const arg of field.arguments ?? []) {
        const a = actual.args.find((x) => x.name === arg.name.value);
        const wantArg = print(arg.type);
        if (!a) problems.push(`${name}(${arg.name.value}) is missing`);
        else if (String(a.type) !== wantArg && `${a.type}!` !== wantArg) problems.push(`${name}(${arg.name.value}: ${a.type}), the contract says ${wantArg}`);
      }
      for (const a of actual.args)
        if (isNonNullType(a.type) && a.defaultValue === undefined && !field.arguments?.some((x) => x.name.value === a.name))
          problems.push(`${name} requires ${a.name}, which the contract does not send`);
    }
  }
  expect(problems).toEqual([]);
});
