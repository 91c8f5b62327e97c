import type { ZodOpenApiContentObject, ZodOpenApiResponsesObject } from 'zod-openapi';
import type { Services } from '../context.ts';
import type { Links } from '../links.ts';
import type { Loaders } from '../loaders.ts';
import type { Principal } from '../runtime/auth/auth.ts';
import { BaseError } from './contract/schemas.ts';
import { json } from './http.ts';
import type { z } from './contract/zod.ts';

/**
 * One REST operation: its contract (what the OpenAPI document says and what requests are validated
 * against) next to its handler. `src/rest/openapi.ts` builds the document from these, the router
 * (src/rest/index.ts) matches, authenticates, validates and calls `handler` with the parsed input.
 */
export interface Operation<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  operationId: string;
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI path template, e.g. `/api/v1/items/{item_id}` (matched with or without a trailing slash). */
  path: string;
  tag: 'targets' | 'algorithms' | 'models' | 'items' | 'utils' | 'Spectro';
  summary: string;
  description?: string;
  /** Set when the original has no such operation: why it exists (marked `x-spectro-extension`). */
  extension?: string;
  /** `read`: any valid token; `all`: a token with scope all; `public`: no token. */
  scope: 'read' | 'all' | 'public';
  params?: P;
  query?: Q;
  /** JSON and/or multipart bodies (both validated by the same schema once read into an object). */
  body?: { json?: B; multipart?: B; required?: boolean; maxBytes?: number; description?: string };
  responses: ZodOpenApiResponsesObject;
  /** Engine argument names that are not just the camelCase of the REST field (`{ ids: 'model_ids' }`). */
  renames?: Record<string, string>;
  handler(call: RestCall<z.output<P>, z.output<Q>, z.output<B>>): Promise<Response>;
}

/** What a handler works with: the validated input, the caller, and the engines. */
export interface RestCall<P = unknown, Q = unknown, B = unknown> {
  request: Request;
  url: URL;
  params: P;
  query: Q;
  body: B;
  principal: Principal | null;
  services: Services;
  /** Per-request batched reads, as the GraphQL resolvers use. */
  loaders: Loaders;
  links: Links;
}

export const defineOperation = <P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(op: Operation<P, Q, B>) => op as unknown as Operation;

const errorContent = { 'application/json': { schema: BaseError } };

/** `{ status: schema }` plus the original's `422` and `default` BaseError answers. */
export function responses(
  status: '200' | '201' | '202',
  description: string,
  content: ZodOpenApiContentObject | null,
  opts: { unprocessable?: boolean } = {},
): ZodOpenApiResponsesObject {
  return {
    [status]: content ? { description, content } : { description },
    ...(opts.unprocessable === false ? {} : { '422': { description: 'Unprocessable Entity', content: errorContent } }),
    default: { description: 'Default error response', content: errorContent },
  };
}

export const jsonContent = (schema: z.ZodType) => ({ 'application/json': { schema } });

/** A JSON answer whose body the compiler checks against the response schema. */
export const reply = <S extends z.ZodType>(_schema: S, body: z.input<S>, status = 200): Response => json(body, status);
