import type { Plugin } from 'graphql-yoga';
import { AppError, ErrorCode } from '../errors.ts';
import type { Auth, Principal } from '../runtime/auth/auth.ts';
import { hasScope } from '../runtime/auth/scopes.ts';

/** Largest GraphQL body that is not a multipart upload: queries with their variables. */
export const MAX_OPERATION_BODY_BYTES = 1024 * 1024;

const tooLarge = (limit: number, multipart: boolean) =>
  new AppError(
    ErrorCode.PAYLOAD_TOO_LARGE,
    multipart
      ? `the request body is larger than ${limit} bytes (UPLOAD_MAX_FILES files of UPLOAD_MAX_FILE_BYTES, at most UPLOAD_MAX_REQUEST_BYTES)`
      : `the request body is larger than ${limit} bytes (files go in a multipart request)`,
  );

const isMultipart = (request: Request) => /^multipart\/form-data\b/i.test(request.headers.get('content-type') ?? '');

/**
 * Request bodies, bounded before and while they are read: a multipart upload at `multipartBytes`
 * (every file at its limit), every other body (queries with their variables, read whole into
 * memory before any field checks the token) at `operationBytes`.
 *
 * A body with a Content-Length is refused from the header alone: Node's HTTP parser ends the body
 * there, so nothing past it can arrive. Only a chunked body is counted while it streams. (Yoga's
 * own `maxRequestBodySize` streamed every body through a counting TransformStream: two stream
 * pipelines per request, a sixth of the server's time on a small query, bench/graph.ts.)
 */
export function limitRequestBodies(limits: { multipartBytes: number; operationBytes?: number }): Plugin {
  const operationBytes = limits.operationBytes ?? MAX_OPERATION_BODY_BYTES;
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (!request.body) return;
      const multipart = isMultipart(request);
      const limit = multipart ? limits.multipartBytes : operationBytes;
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        // One non-negative integer (a list of lengths is a request-smuggling attempt).
        if (!/^\d+$/.test(declared)) throw new AppError(ErrorCode.BAD_USER_INPUT, 'the Content-Length header is not a number of bytes');
        if (Number(declared) > limit) throw tooLarge(limit, multipart);
        return;
      }
      if (!requestParser) return;
      setRequestParser((req) => {
        let read = 0;
        // As Yoga's own limit did: the native TransformStream for a native body (graphql-yoga#4583).
        const Transform = req.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
        const body = req.body!.pipeThrough(
          new Transform<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              read += chunk.byteLength;
              if (read > limit) controller.error(tooLarge(limit, multipart));
              else controller.enqueue(chunk);
            },
          }),
        );
        return requestParser(
          new fetchAPI.Request(req.url, { method: req.method, headers: req.headers, signal: req.signal, body, duplex: 'half' } as RequestInit),
        );
      });
    },
  };
}

/**
 * A multipart body (up to every file at its limit) is read whole before any resolver checks the
 * token. So the token is checked first: a caller who may use no operation that takes a File
 * (pictures to judge: predict; training pictures and model imports: train; a licence: admin) is
 * refused before the body is read. Which of them it may use is the resolver's check.
 */
const UPLOAD_SCOPES = ['predict', 'train', 'admin'] as const;

export function uploadsNeedWriter(auth: Pick<Auth, 'verify'>, onUpload?: (principal: Principal) => Promise<void>): Plugin {
  return {
    // Synchronous for bodies that are not multipart: no promise per request.
    onRequestParse({ request }) {
      if (!request.body || !isMultipart(request)) return;
      return (async () => {
        const principal = await auth.verify(request.headers.get('authorization'));
        if (!UPLOAD_SCOPES.some((scope) => hasScope(principal, scope))) {
          throw new AppError(
            ErrorCode.FORBIDDEN,
            `scope "${principal.scope}" may not upload files; it needs scope ${UPLOAD_SCOPES.map((s) => `"${s}"`).join(', ')} or "all"`,
          );
        }
        await onUpload?.(principal);
      })();
    },
  };
}

/** The per-request bounds of a multipart upload (UPLOAD_MAX_FILES, UPLOAD_MAX_FILE_BYTES). */
export interface MultipartLimits {
  maxFiles: number;
  maxFileBytes: number;
}

/**
 * Per-file and count limits applied while the multipart body is parsed (busboy's limits, through
 * the Fetch ponyfill's `formData` options): the 20 MiB per-file limit used to apply only after the
 * whole body (up to ~2 GiB) had been buffered. A part past a limit stops the parse at once: 413.
 */
const SLACK_BYTES = 1024 * 1024;

export function limitMultipartParts(limits: MultipartLimits): Plugin {
  // A file a little over the limit is parsed whole, so that the upload's own check refuses it by
  // name; one far over it stops the parse at this slack.
  const formDataLimits = {
    fileSize: limits.maxFileBytes + SLACK_BYTES,
    files: limits.maxFiles,
    // `operations` and `map`; their size is the operation body's limit.
    fields: 8,
    fieldSize: MAX_OPERATION_BODY_BYTES,
    parts: limits.maxFiles + 8,
    fieldNameSize: 200,
  };
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (!request.body || !isMultipart(request) || !requestParser) return;
      setRequestParser(async (req) => {
        const formData = req.formData.bind(req) as (opts?: unknown) => Promise<FormData>;
        Object.defineProperty(req, 'formData', { value: () => formData({ formDataLimits }), configurable: true });
        try {
          return await requestParser(req);
        } catch (err) {
          const m = /(File size|Files|Fields|Parts) limit exceeded: (\d+)/i.exec((err as Error)?.message ?? '');
          if (!m) throw err;
          const what = m[1]!.toLowerCase();
          throw new AppError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            what === 'file size'
              ? `a file is larger than ${limits.maxFileBytes} bytes (UPLOAD_MAX_FILE_BYTES); the upload was stopped there`
              : what === 'files' || what === 'parts'
                ? `the request carries more than ${limits.maxFiles} files (UPLOAD_MAX_FILES)`
                : `the multipart request's ${what} limit (${m[2]}) is exceeded`,
          );
        }
      });
    },
  };
}
