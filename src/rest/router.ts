import type { Operation } from './operation.ts';
import { RestFailure, unprocessable } from './http.ts';

interface Compiled {
  operation: Operation;
  regex: RegExp;
  names: string[];
}

/** OpenAPI path templates (`/api/v1/items/{item_id}`) as patterns; a trailing slash is optional. */
export function compile(operations: readonly Operation[]): Compiled[] {
  return operations.map((operation) => {
    const names: string[] = [];
    const source = operation.path
      .replace(/\/+$/, '')
      .split('/')
      .map((part) => {
        const m = /^\{(\w+)\}$/.exec(part);
        if (!m) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(m[1]!);
        return '([^/]+)';
      })
      .join('/');
    return { operation, regex: new RegExp(`^${source}$`), names };
  });
}

/** The operation for a request; a known path with another method is a 405 that lists the allowed ones. */
export function match(
  routes: readonly Compiled[],
  method: string,
  pathname: string,
): { operation: Operation; params: Record<string, string>; malformed?: true } | { allowed: string[] } | null {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  const allowed: string[] = [];
  const wanted = method === 'HEAD' ? 'get' : method.toLowerCase();
  for (const route of routes) {
    const m = route.regex.exec(path);
    if (!m) continue;
    if (route.operation.method !== wanted) {
      allowed.push(route.operation.method.toUpperCase());
      continue;
    }
    const params: Record<string, string> = {};
    try {
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1]!)));
    } catch {
      // Answered (422) only once the caller is authenticated: anonymous callers learn nothing but 401.
      return { operation: route.operation, params, malformed: true };
    }
    return { operation: route.operation, params };
  }
  return allowed.length > 0 ? { allowed: [...new Set(allowed)] } : null;
}

const MAX_JSON = 1024 * 1024;

/** The JSON body as an object; 422 when it is not one, 413 past 1 MiB. */
export async function jsonBody(request: Request): Promise<Record<string, unknown>> {
  const tooLarge = () => new RestFailure(413, `the body is larger than ${MAX_JSON} bytes`, { code: 'PAYLOAD_TOO_LARGE', headers: { connection: 'close' } });
  if (Number(request.headers.get('content-length') ?? 0) > MAX_JSON) throw tooLarge();
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body ? chunks(request.body) : []) {
    size += chunk.byteLength;
    if (size > MAX_JSON) throw tooLarge();
    parts.push(chunk);
  }
  const text = Buffer.concat(parts).toString('utf8');
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw unprocessable('body', 'the body must be a JSON object');
}

/** Reads a multipart body after checking its declared size; 415 for any other content type. */
export async function formBody(request: Request, maxBytes: number): Promise<FormData> {
  const type = (request.headers.get('content-type') ?? '').toLowerCase();
  if (!type.startsWith('multipart/form-data')) {
    throw new RestFailure(415, 'send the files as multipart/form-data', { code: 'UNSUPPORTED_MEDIA' });
  }
  const length = Number(request.headers.get('content-length') ?? 0);
  if (length > maxBytes) {
    throw new RestFailure(413, `the body is larger than ${maxBytes} bytes`, { code: 'PAYLOAD_TOO_LARGE', headers: { connection: 'close' } });
  }
  let size = 0;
  let exceeded = false;
  async function* limited(): AsyncGenerator<Uint8Array> {
    if (!request.body) return;
    for await (const chunk of chunks(request.body)) {
      size += chunk.byteLength;
      // A chunked body has no content-length to check up front.
      if (size > maxBytes) {
        exceeded = true;
        throw new Error('too large');
      }
      yield chunk;
    }
  }
  try {
    // Node's own parser: the Fetch ponyfill Yoga runs on keeps only the last part of a repeated
    // name, and REST clients send every picture as a part named `files`.
    const native = new Request('http://rest.invalid/', {
      method: 'POST',
      headers: { 'content-type': request.headers.get('content-type')! },
      body: limited(),
      duplex: 'half',
    } as unknown as RequestInit);
    return await native.formData();
  } catch {
    // The rest of the body stays unread: close the connection so it is not reused mid-body.
    if (exceeded) throw new RestFailure(413, `the body is larger than ${maxBytes} bytes`, { code: 'PAYLOAD_TOO_LARGE', headers: { connection: 'close' } });
    throw unprocessable('body', 'the multipart body could not be read');
  }
}

/** Reads any WHATWG stream (Node's or the Fetch ponyfill's Yoga runs on) chunk by chunk. */
export async function* chunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

export const isFile = (v: FormDataEntryValue | null): v is File => v !== null && typeof v === 'object';
