import type { Plugin } from 'graphql-yoga';
import { AppError, ErrorCode } from '../errors.ts';
import type { Auth } from '../runtime/auth/auth.ts';

/** Largest GraphQL body that is not a multipart upload: queries with their variables. */
export const MAX_OPERATION_BODY_BYTES = 1024 * 1024;

const tooLarge = (limit: number) =>
  new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `the request body is larger than ${limit} bytes (files go in a multipart request)`);

/**
 * Yoga's `maxRequestBodySize` has to fit a whole multipart upload (gigabytes), and JSON bodies
 * are read whole into memory before any field checks the token. So every other body gets this
 * much smaller limit, by Content-Length and, for chunked bodies, while streaming.
 */
const isMultipart = (request: Request) => /^multipart\/form-data\b/i.test(request.headers.get('content-type') ?? '');

export function limitOperationBodies(limit = MAX_OPERATION_BODY_BYTES): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (!request.body || isMultipart(request)) return;
      if (Number(request.headers.get('content-length') ?? 0) > limit) throw tooLarge(limit);
      if (!requestParser) return;
      setRequestParser((req) => {
        let read = 0;
        // As Yoga's own limit: the native TransformStream for a native body (graphql-yoga#4583).
        const Transform = req.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
        const body = req.body!.pipeThrough(
          new Transform<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              read += chunk.byteLength;
              if (read > limit) controller.error(tooLarge(limit));
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
 * token, and every operation that takes a File is a mutation, which needs scope `all`. So the
 * token is checked first: anybody else is refused before the body is read.
 */
export function uploadsNeedWriter(auth: Pick<Auth, 'verify'>): Plugin {
  return {
    async onRequestParse({ request }) {
      if (!request.body || !isMultipart(request)) return;
      const principal = await auth.verify(request.headers.get('authorization'));
      // Judging pictures (operators) is the least an upload is for; each mutation checks its own scope after.
      if (!principal.scopes.has('predict')) {
        throw new AppError(ErrorCode.FORBIDDEN, `scope "${principal.scope}" may not upload files; it needs scope "predict"`);
      }
    },
  };
}
