import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from './graph-helpers.ts';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid: string };
  targets?: { expr: string }[];
}

const dashboard = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../deploy/grafana-dashboard.json'), 'utf8')) as {
  panels: Panel[];
  uid: string;
};
const PROMQL_WORDS = new Set(['sum', 'by', 'rate', 'increase', 'histogram_quantile', 'clamp_min', 'min', 'max', 'topk', 'le', 'instance']);

let g: Gateway;
/** Every metric the gateway declares (# TYPE), labelled ones included before their first sample. */
let exported: Map<string, { type: string }>;
beforeAll(async () => {
  g = await startGateway();
  const text = await (await g.fetch('/metrics')).text();
  exported = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, { type: m[2]! }]));
});
afterAll(() => g?.close());

describe('deploy/grafana-dashboard.json', () => {
  const targets = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  it('queries only metrics the gateway exports, with the right suffixes for their types', () => {
    expect(targets.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const { panel, expr } of targets) {
      const names = [...expr.matchAll(/\b([a-zA-Z_:][\w:]*)\s*(?=\{|\[)/g)].map((m) => m[1]!).filter((n) => !PROMQL_WORDS.has(n));
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        const histogramPart = /_(bucket|sum|count)$/.exec(name);
        const base = histogramPart ? name.slice(0, -histogramPart[0].length) : name;
        const metric = exported.get(base) ?? exported.get(name);
        if (!metric) problems.push(`${panel}: ${name} is not exported`);
        else if (histogramPart && exported.has(base) && metric.type !== 'histogram') problems.push(`${panel}: ${name} on a ${metric.type}`);
        else if (!histogramPart && metric.type === 'histogram') problems.push(`${panel}: ${name} is a histogram (use _bucket/_sum/_count)`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('lays its panels out on the 24-column grid, each on the datasource variable, filtered by $instance', () => {
    expect(dashboard.uid).toBe('spectro-gateway');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's own variable syntax
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      for (const t of p.targets ?? []) expect(t.expr, p.title).toContain('instance=~"$instance"');
    }
  });
});
