import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

/**
 * gql.tada, typed by the committed schema.graphql (graphql-env.d.ts, written by
 * `npm run dashboard:graphql-env`). Fragments are not masked: the page reads what it asks for.
 */
export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: { DateTime: string; File: File | null };
  disableMasking: true;
}>();

export type { ResultOf, VariablesOf } from 'gql.tada';
