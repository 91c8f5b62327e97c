/**
 * `npm run bench`: every benchmark, one after the other (each in its own process so none warms
 * or loads the next), then one JSON summary of the figures that have targets, each next to the
 * baseline measured in the same run.
 *
 *   npm run bench -- [--only predict,graph,realtime,quality,store,scale] [--provider cpu|cuda] [--quick]
 *
 * The full reports of each benchmark are printed as they finish (stderr), the summary last
 * (stdout).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const only = new Set(flag('only', 'predict,graph,realtime,quality,store,scale').split(','));
const quick = args.includes('--quick');
const provider = flag('provider', 'cpu');

/** Runs one benchmark script and returns every JSON value it printed on stdout. */
function run(script: string, scriptArgs: string[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, script), ...scriptArgs], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code}`));
      resolve(parseJsonValues(out));
    });
  });
}

/** The benchmarks print either one pretty JSON object or JSON lines: read both. */
function parseJsonValues(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = depth > 0;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' && depth > 0 && --depth === 0) {
      values.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return values;
}

type Json = Record<string, any>;
const summary: Json = { node: process.version, provider };

if (only.has('predict')) {
  const [p] = (await run('predict.ts', ['--provider', provider, ...(quick ? ['--quick'] : [])])) as Json[];
  summary.predict = {
    imagesPerSecond: {
      a_rawSessionRun: p?.a_rawRun,
      b_minimalPipeline: p?.b_minimalPipeline,
      c32_endToEnd_batching: p?.c32_batching_on,
      c32_endToEnd_noBatching: p?.c32_batching_off,
    },
    ratio_c32_over_b: p?.ratio_c32_over_b,
    ratio_c32_over_a: p?.ratio_c32_over_a,
    goal: 'ratio_c32_over_b >= 0.8 on CPU',
    camera: Object.fromEntries(
      Object.entries((p?.camera ?? {}) as Record<string, Json>).map(([size, r]) => [
        size,
        {
          c1: r.c1?.picturesPerSecond,
          c32: r.c32?.picturesPerSecond,
          b_minimalPipeline: r.b_minimalPipeline,
          a_rawRun_atBatchUsed: r.a_rawRun_atBatchUsed,
          ratio_c32_over_b: r.ratio_c32_over_b,
          ratio_c32_over_a: r.ratio_c32_over_a,
          p50Ms_c1: r.c1?.p50Ms,
          p99Ms_c1: r.c1?.p99Ms,
        },
      ]),
    ),
    cameraGoal: '5 MP JPEG c32 >= 1.0x (b) and >= 0.7x (a) at the batch size used',
  };
}
if (only.has('graph')) {
  const [g] = (await run('graph.ts', quick ? ['--seconds', '2'] : [])) as Json[];
  summary.graph = {
    gatewayPerSecond: g?.gatewayPerSecond,
    minimalYogaPerSecond: g?.minimalYogaPerSecond,
    ratio_gateway_over_minimal: g?.ratio_gateway_over_minimal,
    goal: 'ratio >= 0.5 (dashboard nested read, concurrency 32)',
  };
}
if (only.has('realtime')) {
  const rows = (await run('realtime.ts', ['--subscribers', '100,1000'])) as Json[];
  summary.realtime = rows.map((r) => ({
    subscribers: r.subscribers,
    deliveredRatio: r.deliveredRatio,
    latencyMs: r.latencyMs,
    baselineLatencyMs: r.baselineLatencyMs,
    ratioP99OverBaseline: r.ratioP99OverBaseline,
    memoryPerSubscriberKB: r.memoryPerSubscriberKB,
  }));
  summary.realtimeGoal = 'deliveredRatio 1.0 and p99 < 100 ms at 1000 subscribers';
}
if (only.has('store')) {
  const [r] = (await run('store.ts', [])) as Json[];
  summary.store = {
    nestedItemsQueryPerSecond: { sqlite: r?.sqlite?.requestsPerSecond, postgres: r?.postgres?.requestsPerSecond },
    latencyP99Ms: { sqlite: r?.sqlite?.latencyMs?.p99, postgres: r?.postgres?.latencyMs?.p99 },
    ratio_postgres_over_sqlite: r?.ratio_postgres_over_sqlite,
  };
}
if (only.has('scale')) {
  const [r] = (await run('scale.ts', [])) as Json[];
  summary.scale = {
    backgroundPicturesPerSecond: r?.picturesPerSecond,
    ratio_two_over_one: r?.ratio_two_over_one,
    rounds: r?.rounds,
    machine: r?.machine,
  };
}
if (only.has('quality')) {
  // quality.ts prints a JSON line per trained cell, then the verdicts: the summary is the last
  const q = ((await run('quality.ts', [])) as Json[]).findLast((v) => v.verdicts);
  summary.quality = Object.fromEntries(
    Object.entries((q?.verdicts ?? {}) as Record<string, Json[]>).map(([set, rows]) => [
      set,
      {
        imageAuroc: Object.fromEntries(rows.map((r) => [r.category, r.imageAuroc])),
        falsePositiveRate: Object.fromEntries(rows.map((r) => [r.category, r.falsePositiveRate])),
        goalsMet: `${rows.filter((r) => r.met).length} of ${rows.length} categories`,
      },
    ]),
  );
  summary.qualityGoal =
    'textures >= 0.95, aligned parts >= 0.98 image AUROC; box hit >= 0.90; FPR <= 0.05 (photos: real photographs; generated: the older generated set)';
}

console.log(JSON.stringify(summary, null, 2));
