import { GraphQLError } from 'graphql';
import { isAsyncIterable, maskError, type Plugin, type YogaServerOptions } from 'graphql-yoga';
import { ErrorCode } from '../errors.ts';
import { currentLog, type Logger } from '../logging.ts';

type ExecutionResultLike = { data?: unknown; errors?: readonly GraphQLError[] };

/** A write failed for want of space: a file (ENOSPC, EDQUOT) or the database (SQLITE_FULL). */
const DISK_FULL_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
export const isDiskFull = (err: unknown): boolean => typeof err === 'object' && err !== null && DISK_FULL_CODES.has(String((err as { code?: unknown }).code));

/**
 * What a client is told when the disk is full. Uploads and imports clean up after themselves
 * (staged files removed, blobs rolled back, one transaction per write), so nothing of the request
 * stays behind; saying so lets the client simply retry later.
 */
function diskFullError(error: GraphQLError | Error): GraphQLError {
  return new GraphQLError('The server has run out of disk space; nothing from this request was stored. Try again once space has been freed.', {
    nodes: error instanceof GraphQLError ? error.nodes : undefined,
    path: error instanceof GraphQLError ? error.path : undefined,
    extensions: { code: ErrorCode.UNAVAILABLE, reason: 'DISK_FULL', http: { status: 503 } },
  });
}

/**
 * Unexpected errors (anything that is not a GraphQLError raised on purpose, e.g. an AppError) are
 * logged with the request id and replaced by a bare INTERNAL_SERVER_ERROR: no message, no stack.
 */
export function maskedErrors(log: Logger): YogaServerOptions<object, object>['maskedErrors'] {
  return {
    maskError(error, message) {
      const original = error instanceof GraphQLError ? error.originalError : error;
      if (isDiskFull(original)) {
        currentLog(log).error({ err: original }, 'disk full: a request could not store its data');
        return diskFullError(error as Error);
      }
      const expected = error instanceof GraphQLError && (!original || original instanceof GraphQLError);
      if (!expected) {
        currentLog(log).error({ err: original ?? error, path: error instanceof GraphQLError ? error.path : undefined }, 'unexpected error');
      }
      // isDev false: never attach the original error (and its stack) to the response.
      return maskError(error, message, false);
    },
  };
}

const CONTRACT_CODES = new Set<string>(Object.values(ErrorCode));

/** The same error with other extensions (a GraphQLError's own are read-only). */
function withExtensions(error: GraphQLError, extensions: GraphQLError['extensions']): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions,
  });
}

const withCode = (error: GraphQLError, code: string, more: Record<string, unknown> = {}) => withExtensions(error, { ...error.extensions, ...more, code });

function withoutHttp(error: GraphQLError): GraphQLError {
  const { http: _http, ...extensions } = error.extensions;
  return withExtensions(error, extensions);
}

const codeByStatus: Record<number, string> = { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA' };

const requestCode = (e: GraphQLError) => {
  const status = (e.extensions?.http as { status?: number } | undefined)?.status;
  return (status && codeByStatus[status]) || 'BAD_USER_INPUT';
};

function normalise(result: ExecutionResultLike): ExecutionResultLike {
  if (!result.errors?.length) return result;
  // No `data` at all: the request never ran (syntax, validation, variables, limits, CSRF).
  const requestError = !('data' in result) || result.data === undefined;
  const partial = result.data !== null && result.data !== undefined;
  const errors = result.errors.map((e) => {
    let out = e;
    const code = e.extensions?.code;
    if (typeof code !== 'string') {
      out = withCode(out, requestError ? requestCode(e) : 'INTERNAL_SERVER_ERROR');
    } else if (requestError && !CONTRACT_CODES.has(code) && code !== 'INTERNAL_SERVER_ERROR') {
      // Yoga's GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED / BAD_REQUEST: kept as `reason`.
      out = withCode(out, requestCode(e), { reason: code });
    }
    // With data to show, answer 200: clients treat other statuses as transport failures and
    // would drop the fields that did resolve. The status follows the error only when nothing did.
    if (partial && out.extensions?.http) out = withoutHttp(out);
    // Yoga attaches a request error's cause as `extensions.originalError`, and a JSON SyntaxError's
    // message quotes the body it could not parse: only the cause's name goes back (issue 9,
    // attack 12). The key stays: Yoga's choice of status (400) depends on it.
    if (out.extensions?.originalError !== undefined) {
      const cause = out.extensions.originalError as { name?: unknown };
      out = withExtensions(out, { ...out.extensions, originalError: { name: typeof cause?.name === 'string' ? cause.name : 'Error' } });
    }
    return out;
  });
  return { ...result, errors };
}

/** A result with the contract's codes on every error, as over HTTP (for graphql-ws, which Yoga's result hooks do not see). */
export const withContractCodes = <T extends ExecutionResultLike>(result: T): T => normalise(result) as T;

/** Errors of a request that never ran (parse, validation, limits) with the contract's codes, as over HTTP. */
export const requestErrors = (errors: readonly GraphQLError[]): GraphQLError[] => [...(normalise({ errors }).errors ?? [])];

/** Every error carries one of the contract's `extensions.code` values. */
export function errorCodes(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (isAsyncIterable(result)) return;
      setResult(Array.isArray(result) ? result.map(normalise) : (normalise(result) as typeof result));
    },
  };
}
