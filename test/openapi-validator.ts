import { OpenAPIBackend, type Document } from 'openapi-backend';

/**
 * Checks REST responses against the OpenAPI document the gateway serves (/api/v1/openapi.json),
 * with openapi-backend (Ajv): the operation is found from method and path, the status must be
 * documented (or covered by `default`), the media type must be one the document lists for it, and
 * a JSON body must match the schema. Every REST call of the test suite goes through `check`
 * (rest-helpers.ts, the typed client's fetch), so a response that drifts from the document fails
 * the test that caused it.
 */
export interface ResponseChecker {
  /** Throws with what differs; resolves with the operation id that matched. */
  check(method: string, url: string, response: Response): Promise<string>;
  /** Operation ids checked so far, with how many responses each. */
  readonly seen: Map<string, number>;
}

interface DocResponse {
  content?: Record<string, unknown>;
}

export async function createResponseChecker(document: Document): Promise<ResponseChecker> {
  // quick: openapi-backend's own check of the document knows OpenAPI 3.0 only; the document is
  // checked against the 3.1 schema in test/rest-openapi.test.ts.
  // openapi-backend matches paths without their trailing slash (the original's `/api/v1/targets/`).
  const definition = structuredClone(document);
  definition.paths = Object.fromEntries(Object.entries(definition.paths ?? {}).map(([p, item]) => [p.length > 1 ? p.replace(/\/+$/, '') : p, item]));
  const api = new OpenAPIBackend({ definition, quick: true, validate: true });
  await api.init();
  const seen = new Map<string, number>();
  return {
    seen,
    async check(method, url, response) {
      const { pathname: raw, search } = new URL(url);
      // The upstream proxy forwards another server's answers: not this document's.
      if (raw.startsWith('/upstream/')) return 'upstream-proxy';
      const pathname = raw.length > 1 ? raw.replace(/\/+$/, '') : raw;
      const query = Object.fromEntries(new URLSearchParams(search));
      const operation = api.matchOperation({ method: method.toLowerCase(), path: pathname, headers: {}, query });
      if (!operation?.operationId) {
        // Not an operation of the document (an unknown path, or another method on a known one):
        // only a BaseError 404 / 405 may come back.
        if (response.status !== 404 && response.status !== 405) throw new Error(`${method} ${pathname}: no operation of the OpenAPI document matches`);
        const result = api.validateResponse(await response.clone().json(), 'login', response.status);
        if (!result.valid) throw new Error(`${method} ${pathname}: the error is not a BaseError: ${JSON.stringify(result.errors)}`);
        return 'unmatched';
      }
      const where = `${method} ${pathname} (${operation.operationId}) answered ${response.status}`;
      const responses = operation.responses as Record<string, DocResponse> | undefined;
      const documented = responses?.[String(response.status)] ?? responses?.[`${String(response.status)[0]}XX`] ?? responses?.default;
      if (!documented) throw new Error(`${where}: the status is not documented`);
      const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const types = Object.keys(documented.content ?? {});
      if (types.length === 0) {
        const text = await response.clone().text();
        if (text !== '') throw new Error(`${where}: the document says no body, got ${type || 'one'}`);
      } else if (!types.includes(type)) {
        throw new Error(`${where}: content-type ${type || '(none)'} is not one of ${types.join(', ')}`);
      }
      if (type === 'application/json') {
        const body: unknown = await response.clone().json();
        const result = api.validateResponse(body, operation, response.status);
        if (!result.valid) {
          throw new Error(`${where}: the body does not match the document: ${JSON.stringify(result.errors)}\n${JSON.stringify(body).slice(0, 2000)}`);
        }
      }
      seen.set(operation.operationId, (seen.get(operation.operationId) ?? 0) + 1);
      return operation.operationId;
    },
  };
}

/** A fetch that checks every answer (what the typed client is given). */
export function checkedFetch(checker: ResponseChecker, base: typeof fetch = fetch): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const response = await base(request);
    await checker.check(request.method, request.url, response);
    return response;
  }) as typeof fetch;
}
