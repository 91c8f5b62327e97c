import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFromSDL, minifyIntrospection, outputIntrospectionFile } from 'gql.tada/internal';

/**
 * The dashboard's gql.tada types (dashboard/src/graphql/graphql-env.d.ts), generated from the
 * committed schema.graphql. gql.tada's own CLI (`gql.tada generate output`) reads tsconfig.json
 * through TypeScript's JavaScript API, which TypeScript 7 (the project's compiler) no longer has,
 * so this calls the same generator directly. test/dashboard-graphql-env.test.ts checks the
 * committed file is what this writes.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_FILE = path.join(ROOT, 'schema.graphql');
export const GRAPHQL_ENV_FILE = path.join(ROOT, 'dashboard/src/graphql/graphql-env.d.ts');

export async function graphqlEnv(): Promise<string> {
  const result = await loadFromSDL({ file: SCHEMA_FILE, assumeValid: true }).load();
  if (!result) throw new Error(`cannot load ${SCHEMA_FILE}`);
  return outputIntrospectionFile(minifyIntrospection(result.introspection), { fileType: '.d.ts', shouldPreprocess: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  fs.writeFileSync(GRAPHQL_ENV_FILE, await graphqlEnv());
  console.log(`wrote ${path.relative(process.cwd(), GRAPHQL_ENV_FILE)}`);
}
