import fs from 'node:fs';
import { expect, test } from 'vitest';
import { GRAPHQL_ENV_FILE, graphqlEnv } from '../scripts/dashboard-graphql-env.ts';

test('dashboard/src/graphql/graphql-env.d.ts is generated from schema.graphql (run `npm run dashboard:graphql-env` after `npm run print-schema`)', async () => {
  expect(fs.readFileSync(GRAPHQL_ENV_FILE, 'utf8')).toBe(await graphqlEnv());
});
