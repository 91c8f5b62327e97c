import type { Plugin } from 'graphql-yoga';
import { AppError, ErrorCode } from '../errors.ts';

/** Largest GraphQL body that is not a multipart upload: queries with their variables. */
export const MAX_OPERATION_BODY_BYTES = 1024 * 1024;

const tooLarge = (limit: number) =>
  new AppError(ErrorCode.PAYLOAD_TOO_LARGE, `the request body is larger than ${limit} bytes (files go in a multipart request)`);

/**
 * Yoga's `maxRequestBodySize` has to fit a whole multipart upload (gigabytes), and JSON bodies
 * are read whole into memory before any field checks the token. So every other body gets this
 * much smaller limit, by Content-Length and, for chunked bodies, while streaming.
 */
export function limitOperationBodies(limit = MAX_OPERATION_BODY_BYTES): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (!request.body || /^multipart\/form-data\b/i.test(request.headers.get('content-type') ?? '')) return;
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
