import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './predict-server.ts';

/**
 * The gateway runs on plant networks without internet: its pages (GraphiQL at /graphql, the
 * dashboard at /) must load everything from the gateway itself.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);

let ts: TestServer;
beforeAll(async () => {
  ts = await startServer();
});
afterAll(async () => {
  await ts?.stop();
});

/** URLs the page's markup and styles load (scripts, styles, icons, fonts, images), outside inline script text. */
function assetUrls(html: string): string[] {
  const markup = html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, (tag) => tag.slice(0, tag.indexOf('>') + 1));
  const urls = [...markup.matchAll(/\b(?:src|href|action|poster)\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1]!);
  for (const style of html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/gi)) {
    urls.push(...[...style[1]!.matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/gi)].map((m) => m[1]!));
    urls.push(...[...style[1]!.matchAll(/@import\s+["']([^"']+)["']/gi)].map((m) => m[1]!));
  }
  return urls;
}

const offHost = (url: string, origin: string) => {
  if (/^(data|blob):/i.test(url) || url.startsWith('#')) return false;
  return new URL(url, origin).origin !== origin;
};

describe('pages work without internet', () => {
  it('GraphiQL (GET /graphql from a browser) and the dashboard reference no asset off the gateway', async () => {
    for (const path of ['/graphql', '/']) {
      const res = await fetch(`${ts.url}${path}`, { headers: { accept: 'text/html,application/xhtml+xml' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      const urls = assetUrls(html);
      expect(
        urls.filter((u) => offHost(u, ts.url)),
        path,
      ).toEqual([]);
      if (path === '/graphql') {
        // The bundle is inline (scripts, styles, editor workers), not fetched from unpkg or jsDelivr.
        expect(html).toContain('YogaGraphiQL.renderYogaGraphiQL');
        expect(html).not.toMatch(/<script[^>]+src=/i);
        expect(html).not.toMatch(/unpkg\.com|cdn\.jsdelivr|fonts\.googleapis/);
      }
    }
  });

  describe.skipIf(!hasChromium)(`in a real browser (${CHROMIUM}), every request off the gateway blocked`, () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    });
    afterAll(async () => {
      await browser?.close();
    });

    /** Opens `path` with the network cut off from everything but the gateway; answers what was attempted. */
    async function openOffline(path: string) {
      const page = await browser.newPage();
      const attempted: string[] = [];
      const failed: string[] = [];
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (offHost(url, ts.url)) {
          attempted.push(url);
          return route.abort('internetdisconnected');
        }
        return route.continue();
      });
      page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const graphql: Promise<{ status: number; body: string; error?: string }>[] = [];
      const assets: string[] = [];
      page.on('response', (r) => {
        const { pathname } = new URL(r.url());
        if (r.request().method() === 'POST' && pathname === '/graphql') {
          // Read at once; a response that arrives as the page closes has no body left to read.
          graphql.push(
            r.text().then(
              (body) => ({ status: r.status(), body }),
              (err: Error) => ({ status: r.status(), body: '', error: err.message }),
            ),
          );
        }
        if (r.status() === 200 && pathname.startsWith('/dashboard/assets/')) assets.push(pathname);
      });
      await page.goto(`${ts.url}${path}`, { waitUntil: 'load' });
      return { page, attempted, failed, errors, graphql, assets };
    }

    it('GraphiQL renders its editor and asks the gateway for the schema, asking nothing of any other host', async () => {
      const { page, attempted, failed, errors, graphql } = await openOffline('/graphql');
      await page.locator('.graphiql-container').first().waitFor({ timeout: 20_000 });
      await page.locator('.graphiql-query-editor, .graphiql-editor').first().waitFor({ timeout: 20_000 });
      // GraphiQL asks the gateway for the schema (introspection) as soon as it runs; with the
      // headers tab's placeholder instead of a token the gateway answers as it does to any
      // operation without one (GRAPHQL_INTROSPECTION=token, the default).
      await expect.poll(() => graphql.length, { timeout: 20_000 }).toBeGreaterThan(0);
      const introspection = await graphql[0]!;
      expect(introspection.status).toBe(401);
      expect(JSON.parse(introspection.body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(await page.title()).toBe('Spectro GraphQL');
      // Every body read before the page closes (a read after it closed rejects, unhandled).
      expect((await Promise.all(graphql)).filter((a) => a.error)).toEqual([]);
      // Still "Loading…" would mean a script never arrived.
      // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText, the text as rendered
      expect(await page.locator('body').innerText()).not.toMatch(/^Loading/);
      expect(attempted).toEqual([]);
      expect(failed).toEqual([]);
      expect(errors).toEqual([]);
      await page.close();
    });

    it('the dashboard renders its sign-in form from its own files, asking nothing of any other host', async () => {
      const { page, attempted, failed, errors, graphql, assets } = await openOffline('/');
      await page.locator('#signin-form').waitFor({ timeout: 10_000 });
      // Signed out: the session refresh is refused, then the page asks which sign-ins are offered.
      await expect.poll(() => graphql.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      // Every body read before the page closes (a read after it closed rejects, unhandled).
      const answers = await Promise.all(graphql);
      expect(answers.map((a) => JSON.parse(a.body).errors?.[0]?.extensions?.code ?? 'ok')).toEqual(['UNAUTHENTICATED', 'ok']);
      // Its script and styles came from the gateway's hashed files.
      expect(assets.filter((a) => a.endsWith('.js')).length).toBeGreaterThan(0);
      expect(assets.filter((a) => a.endsWith('.css')).length).toBeGreaterThan(0);
      expect(attempted).toEqual([]);
      expect(failed).toEqual([]);
      expect(errors).toEqual([]);
      await page.close();
    });
  });
});
