import type { Services } from '../context.ts';
import type { Gql } from './graphql.ts';
import { RestFailure, unprocessable } from './http.ts';

export interface RouteContext {
  request: Request;
  url: URL;
  params: Record<string, string>;
  gql: Gql;
  services: Services;
}

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** `/api/v1/items/:itemId`; matched without the trailing slash. */
  path: string;
  handler: (ctx: RouteContext) => Promise<Response>;
}

interface Compiled extends Route {
  regex: RegExp;
  names: string[];
}

export function compile(routes: Route[]): Compiled[] {
  return routes.map((route) => {
    const names: string[] = [];
    const source = route.path
      .split('/')
      .map((part) => {
        if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(part.slice(1));
        return '([^/]+)';
      })
      .join('/');
    return { ...route, regex: new RegExp(`^${source}$`), names };
  });
}

/** The route for a request; a known path with another method is a 405 that lists the allowed ones. */
export function match(
  routes: Compiled[],
  method: string,
  pathname: string,
): { route: Compiled; params: Record<string, string> } | { allowed: string[] } | null {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  const allowed: string[] = [];
  for (const route of routes) {
    const m = route.regex.exec(path);
    if (!m) continue;
    if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
      allowed.push(route.method);
      continue;
    }
    const params: Record<string, string> = {};
    try {
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1]!)));
    } catch {
      throw unprocessable('path', 'the path has a malformed percent-encoding');
    }
    return { route, params };
  }
  return allowed.length > 0 ? { allowed: [...new Set(allowed)] } : null;
}

const MAX_JSON = 1024 * 1024;

/** The JSON body as an object; 422 when it is not one, 413 past 1 MiB. */
export async function jsonBody(request: Request): Promise<Record<string, unknown>> {
  const tooLarge = () =>
    new RestFailure(413, `the body is larger than ${MAX_JSON} bytes`, { code: 'PAYLOAD_TOO_LARGE', headers: { connection: 'close' } });
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

/** `?ids=a&ids=b`, `?ids=a,b` and `?ids[]=a` all read as [a, b]. */
export function queryList(url: URL, name: string): string[] {
  return [...url.searchParams.getAll(name), ...url.searchParams.getAll(`${name}[]`)]
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

/** A list of id strings (ints accepted, as the REST contract shows some ids as ints). */
export function idList(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' && typeof v !== 'number')) {
    throw unprocessable(key, `${key} must be a list of ids`);
  }
  return value.map(String);
}

/** "true"/"false"/"1"/"0" (and missing = `fallback`); anything else is a 422 naming `key`. */
export function bool(value: FormDataEntryValue | string | boolean | null | undefined, key: string, fallback: boolean | null = null): boolean | null {
  if (value === null || value === undefined || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') throw unprocessable(key, `${key} must be true or false`);
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw unprocessable(key, `${key} must be true or false, got "${value}"`);
}

/** A positive integer query parameter within [1, max]. */
export function positiveInt(url: URL, key: string, fallback: number, max: number): number {
  const raw = url.searchParams.get(key);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw unprocessable(key, `${key} must be a whole number from 1 to ${max}, got "${raw}"`);
  return n;
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
