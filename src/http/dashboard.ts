import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';

/** Paths that serve the line dashboard (one static page that talks to /graphql). */
export const DASHBOARD_PATHS: ReadonlySet<string> = new Set(['/', '/dashboard', '/dashboard/']);

// Next to this module when run from src/; a build to dist/ does not copy the HTML, so also look in src/.
const CANDIDATES = ['./dashboard/index.html', '../../src/http/dashboard/index.html'].map((p) => new URL(p, import.meta.url));

interface Page {
  html: string;
  etag: string;
  /** sha256 sources of the inline <script> (JavaScript only) and <style> blocks. */
  scriptHashes: string[];
  styleHashes: string[];
}

let cached: Page | null = null;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** Hashes of the inline blocks, so the CSP can refuse every other inline script and style. */
function inlineHashes(html: string) {
  const scriptHashes: string[] = [];
  for (const m of html.matchAll(/<script(\s[^>]*)?>([\s\S]*?)<\/script>/gi)) {
    const type = /\btype\s*=\s*["']?([^"'\s>]+)/i.exec(m[1] ?? '')?.[1]?.toLowerCase();
    // Data blocks (application/graphql) are never run, so they need no permission.
    if (!type || type === 'module' || type.includes('javascript')) scriptHashes.push(sha256(m[2]!));
  }
  const styleHashes = [...html.matchAll(/<style(?:\s[^>]*)?>([\s\S]*?)<\/style>/gi)].map((m) => sha256(m[1]!));
  return { scriptHashes, styleHashes };
}

export function loadDashboardPage(): Page {
  if (cached) return cached;
  const file = CANDIDATES.find((u) => fs.existsSync(fileURLToPath(u)));
  if (!file) throw new Error('dashboard page not found (src/http/dashboard/index.html)');
  const html = fs.readFileSync(file, 'utf8');
  const etag = `"${createHash('sha256').update(html).digest('base64url').slice(0, 27)}"`;
  cached = { html, etag, ...inlineHashes(html) };
  return cached;
}

/**
 * Only this origin: the page's own inline code (by hash), fetches to /graphql and images from
 * signed /files/ links. PUBLIC_URL, when set, is where those links point, so it counts as self.
 */
export function dashboardCsp(page: Page, config: Pick<Config, 'publicUrl'>): string {
  const self = ["'self'"];
  if (config.publicUrl) {
    const origin = new URL(config.publicUrl).origin;
    if (origin !== 'null') self.push(origin);
  }
  return [
    "default-src 'none'",
    `script-src ${page.scriptHashes.join(' ')}`,
    `style-src ${page.styleHashes.join(' ')}`,
    `img-src ${self.join(' ')}`,
    `connect-src ${self.join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** `GET /` and `/dashboard`: the page itself; everything it shows comes from the GraphQL API. */
export function serveDashboard(request: Request, config: Pick<Config, 'publicUrl'>): Response {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } });
  }
  const page = loadDashboardPage();
  const headers = {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': dashboardCsp(page, config),
    'cache-control': 'no-cache',
    etag: page.etag,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  };
  if (request.headers.get('if-none-match') === page.etag) return new Response(null, { status: 304, headers });
  return new Response(request.method === 'HEAD' ? null : page.html, { status: 200, headers });
}
