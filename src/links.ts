import type { UrlSigner } from './runtime/images/signed-url.ts';
import type { ImageRecord } from './runtime/store/types.ts';

/**
 * Signed file links: `/files/images/<imageId>` (type and name from the image row) and
 * `/files/blobs/<sha256>?type=<content type>&name=<download name>` (model pictures, exports).
 * The signature covers path and query, so neither the record nor the content type can be
 * swapped. `http/files.ts` serves them.
 */
export const FILES_PREFIX = '/files/';

/** Links in answers, built per request (they start with the request's origin or PUBLIC_URL). */
export interface Links {
  /** Absolute signed URL of an image's bytes; works without headers (e.g. in <img>) until it expires. */
  image(image: Pick<ImageRecord, 'id'>): string;
  /** A stored blob served as `contentType`; `filename` makes browsers download it under that name. */
  blob(key: string, contentType: string, filename?: string): string;
  /** When links made now stop working (ISO 8601), for `Download.expiresAt` and the like. */
  expiresAt(): string;
}

export function createLinks(opts: { baseUrl: string; signer: UrlSigner; ttlSeconds: number; now?: () => number }): Links {
  const now = opts.now ?? Date.now;
  const absolute = (path: string) => `${opts.baseUrl}${opts.signer.sign(path)}`;
  return {
    image: (image) => absolute(`${FILES_PREFIX}images/${encodeURIComponent(image.id)}`),
    blob(key, contentType, filename) {
      const q = new URLSearchParams({ type: contentType });
      if (filename) q.set('name', filename);
      return absolute(`${FILES_PREFIX}blobs/${encodeURIComponent(key)}?${q}`);
    },
    expiresAt: () => new Date(now() + opts.ttlSeconds * 1000).toISOString(),
  };
}
