import { GraphQLError } from 'graphql';

/** The contract's `extensions.code` values for expected failures. */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNSUPPORTED_MEDIA: 'UNSUPPORTED_MEDIA',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  UNAVAILABLE: 'UNAVAILABLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const httpStatus: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  UNSUPPORTED_MEDIA: 415,
  PAYLOAD_TOO_LARGE: 413,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
};

/**
 * An expected failure: shown to the client as is (Yoga masks every other error).
 * `details` lands in extensions, e.g. `{ file: 'a.png' }` or `{ argument: 'id' }`; a
 * `retryAfter` (or `retryAfterSeconds`) there is also sent as the HTTP `Retry-After` header,
 * which is where HTTP clients and proxies look for it.
 */
export class AppError extends GraphQLError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    const retry = details.retryAfter ?? details.retryAfterSeconds;
    const http = { status: httpStatus[code], ...(typeof retry === 'number' ? { headers: { 'retry-after': String(retry) } } : {}) };
    super(message, { extensions: { code, http, ...details } });
    this.code = code;
  }
}

export const notFound = (what: string, id: string) => new AppError(ErrorCode.NOT_FOUND, `${what} "${id}" does not exist`, { id });

export const badInput = (message: string, details: Record<string, unknown> = {}) => new AppError(ErrorCode.BAD_USER_INPUT, message, details);
