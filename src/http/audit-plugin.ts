import { Kind, type ArgumentNode, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';

/** Mutations not worth an audit line: logging in is rate-limited and logged elsewhere. */
const NOT_AUDITED = new Set(['token']);
/** Argument names that name the records a mutation acts on. */
const ID_ARGS = ['id', 'ids', 'modelId', 'modelIds', 'itemIds', 'targetId', 'clientId', 'algorithmId'];

const idsIn = (value: unknown): string[] => {
  if (typeof value === 'string' || typeof value === 'number') return [String(value)];
  if (Array.isArray(value)) return value.flatMap(idsIn);
  return [];
};

/** Ids of the records a mutation's answer names (`{ id }`, `[{ id }]`, `{ items: [{ id }] }`). */
function resultIds(data: unknown, depth = 0): string[] {
  if (depth > 2 || data == null) return [];
  if (Array.isArray(data)) return data.flatMap((d) => resultIds(d, depth));
  if (typeof data !== 'object') return typeof data === 'string' && depth === 0 ? [data] : [];
  const o = data as Record<string, unknown>;
  if (typeof o.id === 'string') return [o.id];
  return Object.values(o).flatMap((v) => (Array.isArray(v) || (v && typeof v === 'object') ? resultIds(v, depth + 1) : []));
}

/**
 * Every GraphQL mutation leaves an audit event: who (the token's client), which mutation, on
 * which records (from the arguments, else from the answer), whether it succeeded, from where.
 * Recorded after the mutation ran, whatever its outcome.
 */
export function auditMutations(): Plugin<Context> {
  return {
    onExecute({ args }) {
      const op = (args.document as DocumentNode).definitions.find(
        (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!args.operationName || d.name?.value === args.operationName),
      );
      if (op?.operation !== 'mutation') return;
      const ctx = args.contextValue as Context;
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      return {
        onExecuteDone({ result }) {
          if (!ctx?.services || Symbol.asyncIterator in (result as object)) return;
          const { data, errors } = result as { data?: Record<string, unknown> | null; errors?: readonly { path?: readonly (string | number)[] }[] };
          for (const sel of op.selectionSet.selections) {
            if (sel.kind !== Kind.FIELD || NOT_AUDITED.has(sel.name.value)) continue;
            const key = sel.alias?.value ?? sel.name.value;
            const argIds = (sel.arguments ?? [])
              .filter((a: ArgumentNode) => ID_ARGS.includes(a.name.value))
              .flatMap((a: ArgumentNode) =>
                a.value.kind === Kind.VARIABLE ? idsIn(variables[a.value.name.value]) : 'value' in a.value ? idsIn(a.value.value) : [],
              );
            const failed = errors?.some((e) => e.path?.[0] === key) ?? false;
            void ctx.services.audit.record({
              actor: ctx.principal?.clientId ?? 'anonymous',
              actorKind: 'client',
              action: sel.name.value,
              targetType: null,
              targetIds: [...new Set([...argIds, ...(failed ? [] : resultIds(data?.[key]))])].slice(0, 1000),
              outcome: failed ? 'failed' : 'ok',
              detail: null,
              source: ctx.source,
            });
          }
        },
      };
    },
  };
}
