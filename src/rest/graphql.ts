import type { YogaServerInstance } from 'graphql-yoga';
import { requestIdOf } from '../logging.ts';
import { RestFailure, statusForCode, type KeyValueError } from './http.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyYoga = YogaServerInstance<any, any>;

/**
 * Runs one GraphQL HTTP request: `yoga.fetch` of the server adapter (what server.ts holds), or,
 * inside a plugin, the YogaServer's own `handle` (parse, validate, execute, mask; the adapter's
 * per-request hooks already ran for the REST request that carries this one).
 */
export interface GraphqlExecutor {
  (request: Request, serverContext: Record<string, unknown>): Promise<Response>;
  /** The Fetch classes the operation's request is built with. */
  api: { Request: typeof Request; FormData: typeof FormData };
}

export type YogaLike = AnyYoga | { handle: (request: Request, serverContext: Record<string, unknown>) => unknown; graphqlEndpoint: string };

export function executorOf(yoga: YogaLike): GraphqlExecutor {
  // Node's own classes: REST uploads are parsed into Node Files (see router.formBody).
  const api = { Request, FormData };
  const run: (request: Request, serverContext: Record<string, unknown>) => unknown =
    'fetch' in yoga && typeof yoga.fetch === 'function'
      ? (request, serverContext) => yoga.fetch(request, serverContext)
      : (request, serverContext) => (yoga as { handle: (r: Request, c: Record<string, unknown>) => unknown }).handle(request, serverContext);
  return Object.assign((request: Request, serverContext: Record<string, unknown>) => Promise.resolve(run(request, serverContext) as Response), {
    api,
  });
}

interface GraphqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; argument?: string; file?: string; retryAfter?: number; requestId?: string } & Record<string, unknown>;
}

/** A file for a `File`/`[File!]` variable, sent per the GraphQL multipart request spec. */
export interface UploadPart {
  /** Dotted variable path, e.g. `files.0` or `file`. */
  variable: string;
  file: Blob & { name?: string };
}

export type Gql = <T>(query: string, variables?: Record<string, unknown>, uploads?: UploadPart[]) => Promise<T>;

/** Headers a REST call hands on to its GraphQL operation (auth, tracing, client identity). */
const FORWARDED = ['authorization', 'x-request-id', 'x-forwarded-for', 'x-real-ip', 'user-agent', 'forwarded'];

/**
 * Runs GraphQL operations for one REST request through the gateway's own Yoga instance, with the
 * caller's headers: authentication, scopes, limits, masking and logging are the GraphQL ones.
 * Errors become RestFailures carrying the REST status for their `extensions.code`.
 */
export function graphqlFor(
  execute: GraphqlExecutor,
  graphqlEndpoint: string,
  request: Request,
  serverContext: Record<string, unknown> = {},
): Gql {
  const endpoint = new URL(graphqlEndpoint, request.url).toString();
  const base: Record<string, string> = {
    accept: 'application/graphql-response+json, application/json',
    // Yoga's CSRF guard wants a non-simple header on multipart requests; harmless on JSON ones.
    'x-graphql-yoga-csrf': 'rest',
    'apollo-require-preflight': 'true',
  };
  for (const name of FORWARDED) {
    const value = request.headers.get(name);
    if (value) base[name] = value;
  }
  // The operation logs under the REST call's id, whether the caller sent one or not.
  base['x-request-id'] = requestIdOf(request);

  return async <T>(query: string, variables: Record<string, unknown> = {}, uploads: UploadPart[] = []): Promise<T> => {
    let init: RequestInit;
    if (uploads.length === 0) {
      init = { method: 'POST', headers: { ...base, 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) };
    } else {
      const form = new execute.api.FormData();
      const vars = structuredClone(variables);
      const map: Record<string, string[]> = {};
      uploads.forEach((u, i) => {
        setPath(vars, u.variable, null);
        map[String(i)] = [`variables.${u.variable}`];
      });
      form.append('operations', JSON.stringify({ query, variables: vars }));
      form.append('map', JSON.stringify(map));
      uploads.forEach((u, i) => form.append(String(i), u.file, u.file.name ?? `file${i}`));
      init = { method: 'POST', headers: base, body: form };
    }
    const res = await execute(new execute.api.Request(endpoint, init), serverContext);
    const text = await res.text();
    let body: { data?: T | null; errors?: GraphqlError[] } | null = null;
    try {
      body = JSON.parse(text);
    } catch {
      // Not a GraphQL answer (a plugin refused the HTTP request itself): keep its status.
      throw new RestFailure(res.status >= 400 ? res.status : 500, text.slice(0, 300) || `HTTP ${res.status}`);
    }
    const errors = body?.errors ?? [];
    if (errors.length > 0) throw failureOf(errors, res);
    if (!body?.data) throw new RestFailure(500, 'the operation returned no data');
    return body.data;
  };
}

/** The first error decides the status; every error is listed under `message`. */
function failureOf(errors: GraphqlError[], res: Response): RestFailure {
  const first = errors[0]!;
  const code = first.extensions?.code;
  let status = statusForCode(code);
  if (status === 500 && res.status >= 400 && res.status !== 500) status = res.status;
  const messages: KeyValueError[] = errors.map((e) => ({
    key: String(e.extensions?.argument ?? e.extensions?.file ?? e.path?.join('.') ?? 'request'),
    errors: [e.message],
  }));
  const headers: Record<string, string> = {};
  const retryAfter = first.extensions?.retryAfter ?? res.headers.get('retry-after');
  if (status === 429 && retryAfter !== null && retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  const requestId = (first.extensions?.requestId as string | undefined) ?? res.headers.get('x-request-id') ?? undefined;
  return new RestFailure(status, first.message, { code: code ?? 'INTERNAL_SERVER_ERROR', messages, headers, requestId });
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node: Record<string, unknown> = target;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys.at(-1)!] = value;
}
