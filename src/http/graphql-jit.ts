import { useGraphQlJit } from '@envelop/graphql-jit';
import { type DocumentNode, GraphQLError, getOperationAST, getVariableValues, type SourceLocation } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

/** Executions of one parsed document after which it is compiled (see below). */
export const JIT_AFTER_RUNS = 2;

/**
 * Queries and mutations run by graphql-jit: each operation compiled once into a function that
 * resolves and serialises its selection without walking the AST (GRAPHQL_JIT, default on). The
 * same resolvers, auth scopes, limits and error masking run; only the executor differs. A
 * nested dashboard read spent about a third of its CPU in graphql-js's executor (BENCHMARKS.md,
 * "The graph's own cost").
 *
 * Compiling costs about a millisecond per operation, so a document is compiled only once it has
 * run `JIT_AFTER_RUNS` times: a client sending a stream of one-off documents gets graphql-js, as
 * before, not a compilation per request. Counting works because Yoga's parser cache hands back
 * the same DocumentNode for the same text; compiled operations live as long as that cache keeps
 * the document.
 *
 * Variables are checked against the operation first: ones that do not fit go to graphql-js, so
 * their errors read as before.
 *
 * Subscriptions stay on graphql-js: their events are executed by useSharedSubscriptionExecution.
 */
export function graphqlJit(enabled: boolean, onError: (errors: readonly unknown[]) => void): Plugin[] {
  if (!enabled) return [];
  const runs = new WeakMap<DocumentNode, number>();
  const compiled = new WeakSet<DocumentNode>();
  const { onExecute } = useGraphQlJit(
    {},
    {
      enableIf: ({ schema, document, operationName, variableValues }) => {
        const n = (runs.get(document) ?? 0) + 1;
        if (n <= JIT_AFTER_RUNS) runs.set(document, n);
        if (n < JIT_AFTER_RUNS) return false;
        // Variables that do not fit the operation: graphql-js answers them (a 400 with its
        // messages), as it would without the compiler, whose wording and status differ.
        const definitions = getOperationAST(document, operationName)?.variableDefinitions;
        if (definitions?.length && getVariableValues(schema, definitions, variableValues ?? {}).errors) return false;
        compiled.add(document);
        return true;
      },
      // A document graphql-jit cannot compile answers the compiler's errors, as graphql-js
      // would answer its own for the same document (validation already passed).
      onError: (result) => onError(result.errors ?? []),
    },
  );
  return [
    {
      onExecute(payload) {
        onExecute!(payload as never);
        const { document } = payload.args;
        return {
          onExecuteDone({ result, setResult }) {
            if (!compiled.has(document) || isAsyncIterable(result) || !result.errors?.length) return;
            setResult({ ...result, errors: result.errors.map((e) => asGraphqlJsError(e, document)) });
          },
        };
      },
    },
  ];
}

/**
 * graphql-jit's field errors carry `locations` but not the AST nodes graphql-js derives them from,
 * and every later step that rebuilds an error (masking, error codes, Yoga's serialiser) rebuilds
 * it from nodes, or from a source and positions: the locations would be lost. The same error
 * with the document's source and the positions of those locations answers as graphql-js would.
 */
function asGraphqlJsError(error: GraphQLError, document: DocumentNode): GraphQLError {
  const source = document.loc?.source;
  if (error.nodes || error.positions || !source || !error.locations?.length) return error;
  const starts = lineStarts(source.body);
  const positions = error.locations.map(({ line, column }: SourceLocation) => (starts[line - 1] ?? 0) + column - 1);
  return new GraphQLError(error.message, {
    source,
    positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

/** Where each line of `body` starts (GraphQL line terminators: \n, \r\n, \r). */
function lineStarts(body: string): number[] {
  const starts = [0];
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\n' || (body[i] === '\r' && body[i + 1] !== '\n')) starts.push(i + 1);
  }
  return starts;
}
