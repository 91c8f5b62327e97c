import { Readable } from 'node:stream';
import type { Services } from '../context.ts';

const text = (status: number, body: string) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });

/** Serves a signed file link; 403 for a bad or expired signature, 404 when the record is gone. */
export async function serveFile(request: Request, url: URL, services: Services): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } });
  }
  if (!services.urls.verify(url.pathname + url.search)) return text(403, 'invalid or expired link');

  const [, kind, rawId] = /^\/files\/(images|blobs)\/([^/]+)$/.exec(url.pathname) ?? [];
  if (!kind || !rawId) return text(404, 'not found');
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    return text(404, 'not found');
  }
  let blob: string;
  let contentType: string;
  let filename: string | null = null;
  if (kind === 'images') {
    const [image] = await services.store.imagesByIds([id]);
    if (!image) return text(404, 'not found');
    // Heatmap overlays are drawn on first request (runtime/inference), not stored with the assessment.
    const drawn = await services.inference?.renderImage(image);
    if (drawn) {
      return new Response(request.method === 'HEAD' ? null : new Uint8Array(drawn.body), {
        status: 200,
        headers: {
          'content-type': drawn.contentType,
          'content-length': String(drawn.body.byteLength),
          'cache-control': 'private, max-age=3600',
          'x-content-type-options': 'nosniff',
          'content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(image.name)}`,
        },
      });
    }
    ({ blob, contentType } = image);
    filename = image.name;
  } else {
    blob = id;
    contentType = url.searchParams.get('type') ?? 'application/octet-stream';
    filename = url.searchParams.get('name');
  }

  const exp = Number(url.searchParams.get('exp'));
  const maxAge = Math.max(0, Math.min(exp - Math.floor(Date.now() / 1000), 86_400));
  if (services.config.presignedDownloads) {
    // The bytes come straight from the bucket, for no longer than this link had left.
    const presigned = await services.store.blobs.presign(blob, {
      ttlSeconds: Math.max(1, maxAge),
      contentType,
      filename: url.searchParams.has('name') ? filename : null,
    });
    if (presigned) return new Response(null, { status: 302, headers: { location: presigned, 'cache-control': 'no-store' } });
  }
  const size = await services.store.blobs.size(blob);
  if (size === null) return text(404, 'not found');
  const headers = new Headers({
    'content-type': contentType,
    'content-length': String(size),
    // Content-addressed: the bytes behind a key never change.
    etag: `"${blob}"`,
    'cache-control': `private, max-age=${maxAge}, immutable`,
    'x-content-type-options': 'nosniff',
    'content-disposition': `${url.searchParams.has('name') ? 'attachment' : 'inline'}${filename ? `; filename*=UTF-8''${encodeURIComponent(filename)}` : ''}`,
  });
  if (request.headers.get('if-none-match') === `"${blob}"`) {
    headers.delete('content-length');
    return new Response(null, { status: 304, headers });
  }
  if (request.method === 'HEAD') return new Response(null, { status: 200, headers });
  let stream: Readable;
  try {
    stream = await services.store.blobs.stream(blob);
  } catch {
    return text(404, 'not found'); // removed since the size was read
  }
  const body = Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200, headers });
}
