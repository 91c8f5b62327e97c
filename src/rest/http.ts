import { type AppError, ErrorCode } from '../errors.ts';

/**
 * REST statuses for the contract's error codes. Unlike GraphQL, the REST API answers bad input
 * with 422 Unprocessable Entity (spectro-rest-v1 documents 422 on every write).
 */
const STATUS: Record<string, number> = {
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.BAD_USER_INPUT]: 422,
  [ErrorCode.UNSUPPORTED_MEDIA]: 415,
  [ErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.UNAVAILABLE]: 503,
};

const TITLE: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const statusForCode = (code: string | undefined): number => (code && STATUS[code]) || 500;

export interface KeyValueError {
  key: string;
  errors: string[];
}

/** An expected REST failure; the handler turns it into spectro-rest-v1's BaseError body. */
export class RestFailure extends Error {
  readonly status: number;
  readonly detail: string;
  readonly extra: RestFailureExtra;
  constructor(status: number, detail: string, extra: RestFailureExtra = {}) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.extra = extra;
  }
}

export interface RestFailureExtra {
  code?: string;
  messages?: KeyValueError[];
  headers?: Record<string, string>;
  requestId?: string;
}

export const unprocessable = (key: string, detail: string) =>
  new RestFailure(422, detail, { code: ErrorCode.BAD_USER_INPUT, messages: [{ key, errors: [detail] }] });

/** `{ errors: { title, detail, status, source: { pointer }, message: [{ key, errors }] } }` */
export function errorResponse(failure: RestFailure, pointer: string): Response {
  const { status, detail, extra } = failure;
  const headers: Record<string, string> = { ...extra.headers };
  if (status === 401) headers['www-authenticate'] ??= 'Bearer';
  const body = {
    errors: {
      title: TITLE[status] ?? 'Error',
      detail,
      status,
      source: { pointer },
      message: extra.messages ?? [],
      ...(extra.code ? { code: extra.code } : {}),
      ...(extra.requestId ? { request_id: extra.requestId } : {}),
    },
  };
  return json(body, status, headers);
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

export const data = (payload: unknown, status = 200) => json({ data: payload }, status);

/**
 * GraphQL argument names that engine errors carry (`extensions.argument`) or mention, and their
 * REST spelling: a REST client is told about `item_ids`, never `itemIds`.
 */
const GRAPHQL_WORDS = /\b(itemIds|modelIds|modelId|targetId|algorithmId|overrideParams|parameterId|xMin|xMax|yMin|yMax|ignoreOuter|minDetectedArea)\b/g;
const snake = (word: string) => word.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** `annotations[0].xMin` -> `annotations.0.x_min`; `renames` first (e.g. `{ ids: 'model_ids' }`). */
export function restKey(argument: string, renames: Record<string, string> = {}): string {
  if (renames[argument]) return renames[argument];
  return argument
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .map((part) => renames[part] ?? snake(part))
    .join('.');
}

export const restMessage = (message: string) => message.replace(/\b[a-z]+\[(\d+)\]/g, (m) => m.replace(/\[(\d+)\]/, '.$1')).replace(GRAPHQL_WORDS, snake);

/**
 * An engine's expected failure (AppError) as the REST answer: the status for its code, the message
 * and `message[].key` in REST names (`renames` maps the engine's argument names that differ by
 * more than case, e.g. `{ ids: 'model_ids', file: 'models' }`).
 */
export function restFailureOf(err: AppError, renames: Record<string, string> = {}): RestFailure {
  const ext = err.extensions as { argument?: unknown; file?: unknown; entry?: unknown; retryAfter?: unknown };
  const detail = restMessage(err.message);
  let key: string | null = null;
  if (typeof ext.argument === 'string') key = restKey(ext.argument, renames);
  else if (typeof ext.file === 'string') key = renames.files ?? 'files';
  else if (typeof ext.entry === 'string') key = renames.file ?? 'models';
  const headers: Record<string, string> = {};
  // A model's admission queue full or past its deadline (runtime/inference/admission.ts): the
  // GraphQL code stays UNAVAILABLE, REST clients get 429 and when to come back.
  const reason = (ext as { reason?: unknown }).reason;
  const overloaded = err.code === ErrorCode.UNAVAILABLE && (reason === 'QUEUE_FULL' || reason === 'QUEUE_DEADLINE');
  if ((err.code === ErrorCode.RATE_LIMITED || overloaded) && ext.retryAfter != null) headers['retry-after'] = String(ext.retryAfter);
  return new RestFailure(overloaded ? 429 : statusForCode(err.code), detail, {
    code: err.code,
    messages: key ? [{ key, errors: [detail] }] : [],
    headers,
  });
}
