import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Kind, parse, validate, visit, type DefinitionNode, type DocumentNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.ts';
import { startGateway, type Gateway } from './graph-helpers.ts';

const PAGE = fs.readFileSync(new URL('../src/http/dashboard/index.html', import.meta.url), 'utf8');

/** The page's GraphQL blocks: `<script type="application/graphql" data-operation|data-fragment="Name">`. */
function graphqlBlocks(html: string) {
  const operations = new Map<string, string>();
  const fragments = new Map<string, string>();
  for (const m of html.matchAll(/<script type="application\/graphql" data-(operation|fragment)="(\w+)">([\s\S]*?)<\/script>/g)) {
    (m[1] === 'operation' ? operations : fragments).set(m[2]!, m[3]!);
  }
  return { operations, fragments };
}

const spreads = (definition: DefinitionNode) => {
  const names = new Set<string>();
  visit(definition, { FragmentSpread: (node) => void names.add(node.name.value) });
  return names;
};

/** The document the page sends for an operation: it plus every fragment it spreads, transitively. */
function documentFor(name: string, blocks: ReturnType<typeof graphqlBlocks>): DocumentNode {
  const definitions: DefinitionNode[] = [...parse(blocks.operations.get(name)!).definitions];
  const seen = new Set<string>();
  for (let i = 0; i < definitions.length; i++) {
    for (const spread of spreads(definitions[i]!)) {
      if (seen.has(spread)) continue;
      seen.add(spread);
      const text = blocks.fragments.get(spread);
      if (!text) throw new Error(`operation ${name} spreads ...${spread}, which the page does not define`);
      definitions.push(...parse(text).definitions);
    }
  }
  return { kind: Kind.DOCUMENT, definitions };
}

describe('dashboard page', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('is served at / and /dashboard as HTML with a CSP that allows only this origin and its own inline code', async () => {
    for (const path of ['/', '/dashboard']) {
      const res = await gw.fetch(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const html = await res.text();
      expect(html).toBe(PAGE);

      const csp = Object.fromEntries(
        res.headers
          .get('content-security-policy')!
          .split(';')
          .map((d) => d.trim().split(/\s+/))
          .map(([name, ...sources]) => [name!, sources]),
      );
      expect(csp['default-src']).toEqual(["'none'"]);
      expect(csp['connect-src']).toEqual(["'self'"]);
      expect(csp['img-src']).toEqual(["'self'"]);
      expect(csp['frame-ancestors']).toEqual(["'none'"]);
      // No other origin, scheme, wildcard or blanket inline/eval permission anywhere.
      for (const sources of Object.values(csp) as string[][]) {
        for (const s of sources) expect(s).toMatch(/^'(self|none|sha256-[A-Za-z0-9+/]+=*)'$/);
      }
      // The page's one inline script and its style are exactly what the hashes allow.
      const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
      const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
      const hash = (t: string) => `'sha256-${createHash('sha256').update(t).digest('base64')}'`;
      expect(scripts).toHaveLength(1);
      expect(csp['script-src']).toEqual(scripts.map(hash));
      expect(csp['style-src']).toEqual(styles.map(hash));
      // Nothing the CSP would block: no inline handlers or style attributes, no outside resources.
      const markup = html.replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/g, '');
      expect(markup).not.toMatch(/\son[a-z]+\s*=|\sstyle\s*=|(src|href)\s*=\s*["']?(https?:)?\/\//i);
      expect(markup).not.toMatch(/<(link|iframe|object|embed)\b/i);
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

  it("sends only operations that are valid against the gateway's schema", () => {
    const blocks = graphqlBlocks(PAGE);
    expect([...blocks.operations.keys()].sort()).toEqual(
      [
        'ActivateModel', 'AddToTraining', 'AddTrainingItems', 'CancelTraining', 'CreateApiClient', 'CreateTarget', 'CreateUser', 'DeleteModels', 'DeleteUser', 'ExportModels', 'ImportModels', 'ModelRegions', 'People', 'PredictImages', 'PredictionFeed', 'RecentResults', 'RefreshSession', 'ResetModelRegions', 'RevokeApiClient', 'RevokeUserSessions', 'RotateApiClientSecret', 'ScoreLabelled', 'SetRegions', 'SetThreshold', 'SignIn', 'SignInOptions', 'SignOut', 'TargetRegions', 'TargetView', 'Targets', 'TrainModel', 'TrainingFeed', 'TrainingItems', 'UpdateUser',
      ].sort(),
    );
    const used = new Set<string>();
    for (const name of blocks.operations.keys()) {
      const doc = documentFor(name, blocks);
      const [op] = doc.definitions;
      expect(op && op.kind === 'OperationDefinition' && op.name?.value).toBe(name);
      const errors = validate(schema, doc).map((e) => e.message);
      expect({ name, errors }).toEqual({ name, errors: [] });
      for (const d of doc.definitions) if (d.kind === 'FragmentDefinition') used.add(d.name.value);
    }
    expect([...used].sort()).toEqual([...blocks.fragments.keys()].sort());
  });

  it('notices when the schema drifts away from what the page asks for', () => {
    const drifted = PAGE.replace('predictParameters { threshold }', 'predictParameters { cutoff }');
    const errors = validate(schema, documentFor('TargetView', graphqlBlocks(drifted)));
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('Cannot query field "cutoff" on type "PredictParameters"')]);
  });
});
