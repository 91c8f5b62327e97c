/** One series of a Prometheus text exposition. */
export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (what prom-client writes: no timestamps, simple label values). */
export function parseMetrics(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`not a metric line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the series called `name` whose labels include `labels`. */
export function sum(series: Series[], name: string, labels: Record<string, string> = {}): number {
  return series.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
}

/** A scrape of `url`/metrics, with `get(name, labels)` summing series. */
export async function scrape(url: string, init: RequestInit = {}) {
  const res = await fetch(`${url}/metrics`, init);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const series = parseMetrics(await res.text());
  return { series, get: (name: string, labels: Record<string, string> = {}) => sum(series, name, labels) };
}
