import type { TadaDocumentNode } from 'gql.tada';
import { documentText, operationName } from '../graphql/document.ts';
import { GraphQLFailure, networkFailure, type GraphQLErrorShape } from './failure.ts';
import { session } from './session.ts';

export const ENDPOINT = '/graphql';
const ACCEPT = 'application/graphql-response+json, application/json';

/** A typed operation (gql.tada): what it answers (R) and what it takes (V). */
export type Doc<R, V> = TadaDocumentNode<R, V>;
/** Variables that are files: a list of them or one (GraphQL multipart request). */
export type Files = Record<string, File[] | File>;

export function headers(extra: Record<string, string>): Record<string, string> {
  // The CSRF header makes even a multipart request non-"simple" (Yoga refuses it otherwise).
  const h: Record<string, string> = { 'x-graphql-yoga-csrf': 'dashboard', ...extra };
  if (session.value) h.authorization = `Bearer ${session.value.token}`;
  return h;
}

export async function readResult<R>(res: Response): Promise<R> {
  const type = res.headers.get('content-type') ?? '';
  const body = (type.includes('json') ? await res.json().catch(() => null) : null) as { data?: R; errors?: GraphQLErrorShape[] } | null;
  if (body && Array.isArray(body.errors) && body.errors.length) throw new GraphQLFailure(body.errors, res.status);
  if (!res.ok || !body) {
    throw new GraphQLFailure(
      [{ message: `the gateway answered HTTP ${res.status} ${res.statusText}`.trim(), extensions: { code: `HTTP_${res.status}` } }],
      res.status,
    );
  }
  return body.data as R;
}

/** The request body of an operation: `{ query, variables, operationName }`. */
export function operationBody<V>(doc: Doc<unknown, V>, variables: V) {
  return { query: documentText(doc), variables, operationName: operationName(doc) };
}

/** A GraphQL multipart request body: `files` maps a variable to a File[] (a list) or one File. */
export function multipart<V>(doc: Doc<unknown, V>, variables: V, files: Files): FormData {
  const form = new FormData();
  const vars: Record<string, unknown> = { ...(variables as Record<string, unknown>) };
  const map: Record<string, string[]> = {};
  const parts: File[] = [];
  for (const [key, value] of Object.entries(files)) {
    if (Array.isArray(value)) {
      vars[key] = value.map(() => null);
      value.forEach((file, i) => {
        map[String(parts.length)] = [`variables.${key}.${i}`];
        parts.push(file);
      });
    } else {
      vars[key] = null;
      map[String(parts.length)] = [`variables.${key}`];
      parts.push(value);
    }
  }
  form.append('operations', JSON.stringify(operationBody(doc, vars as V)));
  form.append('map', JSON.stringify(map));
  parts.forEach((file, i) => form.append(String(i), file, file.name));
  return form;
}

/** One request, as is (no token renewal): JSON, or multipart when `files` is given. */
export async function send<R, V>(doc: Doc<R, V>, variables: V, files: Files | null = null): Promise<R> {
  let res: Response;
  try {
    res = files
      ? await fetch(ENDPOINT, { method: 'POST', headers: headers({ accept: ACCEPT }), body: multipart(doc, variables, files) })
      : await fetch(ENDPOINT, {
          method: 'POST',
          headers: headers({ accept: ACCEPT, 'content-type': 'application/json' }),
          body: JSON.stringify(operationBody(doc, variables)),
        });
  } catch (err) {
    throw networkFailure(`cannot reach the gateway (${(err as Error).message})`);
  }
  return readResult<R>(res);
}

/**
 * An upload that reports how much of it has been sent (fetch cannot): XMLHttpRequest. `onProgress`
 * gets 0..1.
 */
export function sendWithProgress<R, V>(doc: Doc<R, V>, variables: V, files: Files, onProgress: (fraction: number) => void): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', ENDPOINT);
    for (const [k, v] of Object.entries(headers({ accept: ACCEPT }))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(networkFailure('cannot reach the gateway (the upload was interrupted)'));
    xhr.onload = () =>
      resolve(readResult<R>(new Response(xhr.responseText, { status: xhr.status, headers: { 'content-type': xhr.getResponseHeader('content-type') ?? '' } })));
    xhr.send(multipart(doc, variables, files));
  });
}
