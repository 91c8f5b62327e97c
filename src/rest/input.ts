import { RestFailure, type KeyValueError } from './http.ts';
import type { Operation } from './operation.ts';
import { formBody, jsonBody } from './router.ts';
import type { z } from './contract/zod.ts';

/** Default bound of a multipart body that is not an upload of pictures (license, archive...). */
const DEFAULT_MULTIPART_BYTES = 16 * 1024 * 1024;

type Shape = Record<string, z.ZodType>;

/** The object schema's fields (through `.meta()`/`.optional()` wrappers, which keep `.shape`). */
const shapeOf = (schema: z.ZodType | undefined): Shape => (schema as unknown as { shape?: Shape } | undefined)?.shape ?? {};

/** True when the field takes a list (`z.array`, possibly optional). */
function isList(field: z.ZodType): boolean {
  let def = (field as unknown as { def: { type: string; innerType?: z.ZodType } }).def;
  while (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') {
    def = (def.innerType as unknown as { def: typeof def }).def;
  }
  return def.type === 'array';
}

/** Zod's issues as the original's 422: `message[].key` is the REST field, dotted (`annotations.0.x_min`). */
export function invalid(issues: readonly z.core.$ZodIssue[], where: 'path' | 'query' | 'body'): RestFailure {
  const messages: KeyValueError[] = [];
  for (const issue of issues) {
    const key = issue.path.length > 0 ? issue.path.map(String).join('.') : where;
    const text = /^(is|must|has) /.test(issue.message) ? `${key} ${issue.message}` : `${key}: ${issue.message}`;
    const entry = messages.find((m) => m.key === key);
    if (entry) entry.errors.push(text);
    else messages.push({ key, errors: [text] });
  }
  const detail = messages.flatMap((m) => m.errors).join('; ');
  return new RestFailure(422, detail, { code: 'BAD_USER_INPUT', messages });
}

/** "is required" for a missing field instead of zod's "expected string, received undefined". */
const parseOptions = {
  error: (iss: z.core.$ZodRawIssue) => (iss.input === undefined && iss.code === 'invalid_type' ? 'is required' : undefined),
};

function parse<S extends z.ZodType>(schema: S | undefined, value: unknown, where: 'path' | 'query' | 'body'): z.output<S> | undefined {
  if (!schema) return undefined;
  const result = schema.safeParse(value, parseOptions);
  if (!result.success) throw invalid(result.error.issues, where);
  return result.data;
}

/** Query parameters of the schema: lists from `?a=1&a=2`, `?a=1,2` or `?a[]=1`; others as one string. */
function queryObject(url: URL, schema: z.ZodType | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(shapeOf(schema))) {
    if (isList(field)) {
      const values = [...url.searchParams.getAll(name), ...url.searchParams.getAll(`${name}[]`)]
        .flatMap((v) => v.split(','))
        .map((v) => v.trim())
        .filter(Boolean);
      if (values.length > 0) out[name] = values;
    } else {
      const v = url.searchParams.get(name);
      if (v !== null && v !== '') out[name] = v;
    }
  }
  return out;
}

/** A multipart form as the schema's object: list fields from every part of that name (or `name[]`). */
function formObject(form: FormData, schema: z.ZodType | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(shapeOf(schema))) {
    const values = [...form.getAll(name), ...form.getAll(`${name}[]`)].filter((v) => v !== '');
    if (values.length === 0) continue;
    out[name] = isList(field) ? values : values[0];
  }
  return out;
}

const mediaType = (request: Request) => (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();

/** The body as the operation declares it: JSON and/or multipart, 415 for another media type. */
async function readBody(request: Request, op: Operation, maxMultipartBytes: number): Promise<unknown> {
  const body = op.body;
  if (!body) return undefined;
  const type = mediaType(request);
  if (type === 'multipart/form-data' && body.multipart) {
    return { schema: body.multipart, value: formObject(await formBody(request, body.maxBytes ?? maxMultipartBytes), body.multipart) };
  }
  if ((type === 'application/json' || type === '' || type.endsWith('+json')) && body.json) {
    return { schema: body.json, value: await jsonBody(request) };
  }
  if (type === '' && body.multipart && !body.required) return { schema: body.multipart, value: {} };
  const accepted = [body.json ? 'application/json' : null, body.multipart ? 'multipart/form-data' : null].filter(Boolean).join(' or ');
  throw new RestFailure(415, `send the body as ${accepted}`, { code: 'UNSUPPORTED_MEDIA' });
}

export interface ParsedInput {
  params: unknown;
  query: unknown;
  body: unknown;
}

/**
 * Validates a request against its operation's contract (the schemas the OpenAPI document is made
 * from): path parameters, query, then the body. Any failure is a BaseError 422 naming the field.
 */
export async function parseInput(
  request: Request,
  url: URL,
  op: Operation,
  rawParams: Record<string, string>,
  maxMultipartBytes = DEFAULT_MULTIPART_BYTES,
): Promise<ParsedInput> {
  const params = parse(op.params, rawParams, 'path');
  const query = parse(op.query, queryObject(url, op.query), 'query');
  const read = (await readBody(request, op, maxMultipartBytes)) as { schema: z.ZodType; value: unknown } | undefined;
  const body = read ? parse(read.schema, read.value, 'body') : undefined;
  return { params, query, body };
}
