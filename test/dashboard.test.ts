import fs from 'node:fs';
import { parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardDir, NOT_BUILT, serveDashboard } from '../src/http/dashboard.ts';
import { dashboardDocuments, documentHash, loadTrustedDocuments } from '../src/http/trusted-documents.ts';
import { schema } from '../src/schema/index.ts';
import { startGateway, type Gateway } from './graph-helpers.ts';

/** The built page (test/global-setup.ts builds it when missing or stale). */
const DIST = new URL('../dist/dashboard/', import.meta.url);
const PAGE = fs.readFileSync(new URL('index.html', DIST), 'utf8');
const MANIFEST = JSON.parse(fs.readFileSync(new URL('trusted-documents.json', DIST), 'utf8')) as Record<string, string>;

const cspOf = (res: Response) =>
  Object.fromEntries(
    res.headers
      .get('content-security-policy')!
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...sources]) => [name!, sources]),
  );

/** The files the page loads: its module script and its style sheet. */
const assetsOf = (html: string) => [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);

describe('dashboard page', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('is served at / and /dashboard as the built HTML, revalidated by etag, with a CSP of this origin only and no inline code', async () => {
    for (const path of ['/', '/dashboard', '/dashboard/']) {
      const res = await gw.fetch(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const html = await res.text();
      expect(html).toBe(PAGE);
      const csp = cspOf(res);
      expect(csp['default-src']).toEqual(["'none'"]);
      expect(csp['script-src']).toEqual(["'self'"]);
      expect(csp['style-src']).toEqual(["'self'"]);
      expect(csp['connect-src']).toEqual(["'self'"]);
      expect(csp['img-src']).toEqual(["'self'"]);
      expect(csp['frame-ancestors']).toEqual(["'none'"]);
      // No other origin, scheme, wildcard or inline/eval permission anywhere.
      for (const sources of Object.values(csp) as string[][]) for (const s of sources) expect(s).toMatch(/^'(self|none)'$/);

      const again = await gw.fetch(path, { headers: { 'if-none-match': res.headers.get('etag')! } });
      expect(again.status).toBe(304);
    }
    // Nothing the CSP would block: every script and style is a file of the build, none inline.
    expect(PAGE).not.toMatch(/<script\b(?![^>]*\bsrc=)[^>]*>/i);
    expect(PAGE).not.toMatch(/<style\b|\son[a-z]+\s*=|\sstyle\s*=/i);
    const assets = assetsOf(PAGE);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const a of assets) expect(a).toMatch(/^\/dashboard\/assets\/[\w-]+\.(js|css)$/);
  });

  it('serves the hashed files for good with their content types, and nothing else under /dashboard/assets/', async () => {
    for (const a of assetsOf(PAGE)) {
      const res = await gw.fetch(a);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(a.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(Buffer.from(await res.arrayBuffer()).equals(fs.readFileSync(new URL(`.${a.slice('/dashboard'.length)}`, DIST)))).toBe(true);
    }
    for (const path of [
      '/dashboard/assets/nothing-here.js',
      '/dashboard/assets/',
      // Out of assets/ by every spelling: encoded separators and dots, dot files, other types.
      '/dashboard/assets/..%2findex.html',
      '/dashboard/assets/%2e%2e%2f%2e%2e%2fpackage.json',
      '/dashboard/assets/..%5c..%5cpackage.json',
      '/dashboard/assets/.htaccess.js',
      '/dashboard/assets/../trusted-documents.json',
    ]) {
      const res = await gw.fetch(path);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).not.toContain('"');
    }
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const head = await gw.fetch('/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await gw.fetch('/dashboard', { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('says how to build it when dist/dashboard is missing (503), and the trusted documents do without it', async () => {
    const res = serveDashboard(new Request('http://gw/'), { publicUrl: null }, '/', null);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe(`${NOT_BUILT}\n`);
    expect(NOT_BUILT).toBe('the dashboard is not built: run npm run build:dashboard');
    const asset = serveDashboard(new Request('http://gw/dashboard/assets/x.js'), { publicUrl: null }, '/dashboard/assets/x.js', null);
    expect(asset.status).toBe(503);
    expect(dashboardDocuments(null)).toEqual([]);
    expect(dashboardDir()).not.toBeNull();
    expect(loadTrustedDocuments('enforce', null).byHash.size).toBe(Object.keys(MANIFEST).length);
  });
});

describe("the dashboard's operations (dist/dashboard/trusted-documents.json)", () => {
  const operationName = (text: string) => {
    const op = parse(text).definitions.find((d) => d.kind === 'OperationDefinition');
    return op && op.kind === 'OperationDefinition' ? op.name?.value : undefined;
  };

  it("are every operation of the page, each valid against the gateway's schema and known by its hash", () => {
    expect(Object.values(MANIFEST).map(operationName).sort()).toEqual(
      [
        'ActivateModel',
        'AddToTraining',
        'AddTrainingItems',
        'AnnotateItem',
        'CancelTraining',
        'CreateApiClient',
        'CreateTarget',
        'CreateUser',
        'DeleteModels',
        'DeleteUser',
        'ExportModels',
        'ImportModels',
        'ModelRegions',
        'ModelSensitivity',
        'People',
        'PredictImages',
        'PredictionFeed',
        'RecentResults',
        'RefreshSession',
        'ResetModelRegions',
        'RevokeApiClient',
        'RevokeUserSessions',
        'RotateApiClientSecret',
        'ScoreLabelled',
        'SetRegions',
        'SetThreshold',
        'SignIn',
        'SignInOptions',
        'SignOut',
        'TargetRegions',
        'TargetView',
        'Targets',
        'TrainModel',
        'TrainingFeed',
        'TrainingItems',
        'UpdateUser',
      ].sort(),
    );
    for (const [hash, text] of Object.entries(MANIFEST)) {
      const errors = validate(schema, parse(text)).map((e) => e.message);
      expect({ name: operationName(text), errors }).toEqual({ name: operationName(text), errors: [] });
      expect(documentHash(text)).toBe(hash);
      // The operation comes first, as the page sends it.
      expect(text).toMatch(/^(query|mutation|subscription) /);
    }
  });

  it('notices when the schema drifts away from what the page asks for', () => {
    const targetView = Object.values(MANIFEST).find((t) => t.startsWith('query TargetView'))!;
    const drifted = targetView.replace(/predictParameters \{\s*threshold/, 'predictParameters {\n    cutoff');
    expect(drifted).not.toBe(targetView);
    const errors = validate(schema, parse(drifted));
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('Cannot query field "cutoff" on type "PredictParameters"')]);
  });
});
