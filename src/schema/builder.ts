import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError, Kind } from 'graphql';
import type { Context } from '../context.ts';
import { AppError, ErrorCode } from '../errors.ts';
import { hasAllScopes, hasScope } from '../runtime/auth/scopes.ts';

/**
 * The one Pothos builder. Conventions every schema file relies on:
 * - fields are NON-NULL by default (`defaultFieldNullability: false`); say `nullable: true`
 *   where the contract has no `!`. Arguments stay optional unless `required: true`.
 * - scopes: `authenticated` (any valid token) and `writer` (token with scope `all`). Query and
 *   Subscription fields require `authenticated`, Mutation fields `writer` (set on the root types
 *   in schema/root.ts); a failure throws UNAUTHENTICATED (no/invalid token) or FORBIDDEN.
 * - ids are the store's raw ids (see resolvers/node.ts for how `node(id)` finds the type), so
 *   the relay plugin's global-id encoding is the identity.
 * - connections return `{ edges, pageInfo, totalCount }`; build them with `connectionFromPage`
 *   (schema/connection.ts).
 */
export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { authenticated: boolean; writer: boolean; predict: boolean; train: boolean; admin: boolean };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: { list: false; items: false };
  DefaultNodeNullability: false;
  Connection: { totalCount: number | (() => Promise<number>) };
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date | string };
    File: { Input: File; Output: never };
  };
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      authenticated: ctx.principal !== null,
      // Writes without a finer scope of their own need every scope (`all`, the old spelling).
      writer: hasAllScopes(ctx.principal),
      predict: hasScope(ctx.principal, 'predict'),
      train: hasScope(ctx.principal, 'train'),
      admin: hasScope(ctx.principal, 'admin'),
    }),
    unauthorizedError: (_parent, ctx) => {
      if (ctx.principal === null) {
        return ctx.authError ?? new AppError(ErrorCode.UNAUTHENTICATED, 'a bearer token is required');
      }
      return new AppError(ErrorCode.FORBIDDEN, `scope "${ctx.principal.scope}" may not do this; it needs a wider scope ("all" does everything)`);
    },
  },
  relay: {
    encodeGlobalID: (_typename, id) => String(id),
    decodeGlobalID: (globalID) => ({ typename: '', id: globalID }),
    // node(id) is defined in resolvers/node.ts (raw ids carry no type name); nodes() is not offered.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: { list: false, items: false } },
    nodeFieldOptions: { nullable: false },
  },
});

const isoDate = (value: unknown): Date => {
  const date = typeof value === 'string' ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `DateTime must be an ISO-8601 string, got ${JSON.stringify(value)}`);
  }
  return date;
};

builder.scalarType('DateTime', {
  description: 'An ISO-8601 date and time string (UTC), e.g. 2024-05-01T12:00:00.000Z',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString()),
  parseValue: isoDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string literal');
    return isoDate(ast.value);
  },
});

builder.scalarType('File', {
  description: 'A file sent as a part of a GraphQL multipart request (graphql-multipart-request-spec)',
  serialize: () => {
    throw new GraphQLError('File is an input-only scalar');
  },
  parseValue: (value) => {
    // Yoga hands over WHATWG File objects (possibly its own ponyfill class), so check the shape.
    const file = value as File | null;
    if (file && typeof file === 'object' && typeof file.arrayBuffer === 'function' && typeof file.name === 'string') {
      return file;
    }
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'File arguments must be sent as parts of a multipart request (graphql-multipart-request-spec)');
  },
  parseLiteral: () => {
    throw new AppError(ErrorCode.BAD_USER_INPUT, 'File arguments cannot be written inline; send a multipart request');
  },
});
