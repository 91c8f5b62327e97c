import type { Services } from '../context.ts';
import { serveFile } from '../http/files.ts';
import { RestFailure } from './http.ts';

/**
 * The REST API answers exports with the file itself where GraphQL hands out a signed link
 * (`Download.url`): serve that link's bytes in this response, through the same file route.
 */
export async function download(signedUrl: string, request: Request, services: Services): Promise<Response> {
  const url = new URL(signedUrl, request.url);
  const res = await serveFile(new Request(url, { method: 'GET' }), url, services);
  if (!res.ok) throw new RestFailure(500, `the prepared download could not be read (HTTP ${res.status})`);
  return res;
}
