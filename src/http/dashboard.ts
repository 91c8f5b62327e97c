import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';

/**
 * The line dashboard: a Vite build of dashboard/ (Preact), in dist/dashboard/ (`npm run
 * build:dashboard`, run by `npm ci` through `prepare`). The page at / and /dashboard, its hashed
 * files under /dashboard/assets/, its GraphQL operations in trusted-documents.json.
 */
export const DASHBOARD_PAGE_PATHS: ReadonlySet<string> = new Set(['/', '/dashboard', '/dashboard/']);
export const DASHBOARD_ASSETS_PREFIX = '/dashboard/assets/';
export const isDashboardPath = (pathname: string) => DASHBOARD_PAGE_PATHS.has(pathname) || pathname.startsWith(DASHBOARD_ASSETS_PREFIX);

// ../../dist/dashboard both from src/http/ (npm start) and from a tsc build's dist/http/.
const DIR = fileURLToPath(new URL('../../dist/dashboard/', import.meta.url));

/** The directory of the built dashboard, or null when it has not been built. */
export function dashboardDir(): string | null {
  return fs.existsSync(path.join(DIR, 'index.html')) && fs.existsSync(path.join(DIR, 'assets')) ? DIR : null;
}

export const NOT_BUILT = 'the dashboard is not built: run npm run build:dashboard';

interface Page {
  html: string;
  etag: string;
}
let cached: { dir: string; mtimeMs: number; page: Page } | null = null;

/** index.html of the build (read again when a new build replaces it), or null when there is none. */
export function loadDashboardPage(dir = dashboardDir()): Page | null {
  if (!dir) return null;
  const file = path.join(dir, 'index.html');
  const { mtimeMs } = fs.statSync(file);
  if (cached && cached.dir === dir && cached.mtimeMs === mtimeMs) return cached.page;
  const html = fs.readFileSync(file, 'utf8');
  const page = { html, etag: `"${createHash('sha256').update(html).digest('base64url').slice(0, 27)}"` };
  cached = { dir, mtimeMs, page };
  return page;
}

/**
 * Only this origin: the page's own script and style files, fetches to /graphql and images from
 * signed /files/ links. PUBLIC_URL, when set, is where those links point, so it counts as self.
 * No inline script or style: Preact sets element styles through CSSOM, which CSP allows.
 */
export function dashboardCsp(config: Pick<Config, 'publicUrl'>): string {
  const self = ["'self'"];
  if (config.publicUrl) {
    const origin = new URL(config.publicUrl).origin;
    if (origin !== 'null') self.push(origin);
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${self.join(' ')}`,
    `connect-src ${self.join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};
// A file name Vite writes (name-hash.ext): no separators, no dot files, so nothing outside assets/.
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
const text = (status: number, body: string, extra: Record<string, string> = {}) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS, ...extra } });

function serveAsset(request: Request, pathname: string, dir: string): Response {
  let name: string;
  try {
    name = decodeURIComponent(pathname.slice(DASHBOARD_ASSETS_PREFIX.length));
  } catch {
    return text(404, 'not found');
  }
  const type = CONTENT_TYPES[path.extname(name)];
  if (!ASSET_NAME.test(name) || name.includes('..') || !type) return text(404, 'not found');
  const file = path.join(dir, 'assets', name);
  let body: Buffer;
  try {
    body = fs.readFileSync(file);
  } catch {
    return text(404, 'not found');
  }
  const headers = {
    'content-type': type,
    // The name changes with the content (Vite's hash): cached for good.
    'cache-control': 'public, max-age=31536000, immutable',
    'content-length': String(body.length),
    ...SECURITY_HEADERS,
  };
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
}

/** `GET /`, `/dashboard` (the page) and `/dashboard/assets/*` (its files); everything it shows comes from /graphql. */
export function serveDashboard(request: Request, config: Pick<Config, 'publicUrl'>, pathname = new URL(request.url).pathname, dir = dashboardDir()): Response {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } });
  }
  // The rest of the gateway works without it; the page says how to get it.
  if (!dir) return text(503, `${NOT_BUILT}\n`, { 'retry-after': '60' });
  if (pathname.startsWith(DASHBOARD_ASSETS_PREFIX)) return serveAsset(request, pathname, dir);
  const page = loadDashboardPage(dir);
  if (!page) return text(503, `${NOT_BUILT}\n`);
  const headers = {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': dashboardCsp(config),
    // Always asked again (cheap with the etag): a new build's asset names reach the browser at once.
    'cache-control': 'no-cache',
    etag: page.etag,
    'x-frame-options': 'DENY',
    ...SECURITY_HEADERS,
  };
  if (request.headers.get('if-none-match') === page.etag) return new Response(null, { status: 304, headers });
  return new Response(request.method === 'HEAD' ? null : page.html, { status: 200, headers });
}

/** The page's operations as the build wrote them (`{ hash: document }`), or null when it is not built. */
export function loadDashboardManifest(dir = dashboardDir()): Record<string, string> | null {
  if (!dir) return null;
  const file = path.join(dir, 'trusted-documents.json');
  if (!fs.existsSync(file)) return null;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
}
