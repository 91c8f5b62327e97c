/**
 * Camera-size pictures for bench/predict.ts: JPEGs of a line camera's size generated in code (a
 * synthetic aligned part scaled up, with sensor-like noise so the JPEG is as costly to decode
 * as a photograph's), and the helpers that turn a server's /metrics into time per stage.
 */
import sharp from 'sharp';
import { ALL_DEFECTS, generateImage } from './synthetic.ts';

/** `WxH` -> [W, H]. */
export function parseSize(s: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (!m) throw new Error(`a camera size is WIDTHxHEIGHT, got "${s}"`);
  return [Number(m[1]), Number(m[2])];
}

/** A width x height JPEG (quality 90) of a synthetic part, with a defect when asked. */
export async function cameraJpeg(width: number, height: number, seed: number, defect: boolean): Promise<Buffer> {
  const img = generateImage('plate', { seed, size: 512, defect: defect ? ALL_DEFECTS[seed % ALL_DEFECTS.length]! : null });
  const { data } = await sharp(Buffer.from(img.rgb), { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  // Sensor noise (+-6 grey levels, a cheap LCG): without it the JPEG of an upscaled drawing is a
  // fraction of a real picture's size and decodes several times faster.
  let x = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const v = data[i]! + ((x >>> 24) % 13) - 6;
    data[i] = Math.min(Math.max(v, 0), 255);
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const total = (s: Series[], name: string, labels: Record<string, string> = {}) =>
  s.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((n, x) => n + x.value, 0);

/**
 * Where the server's time went between two scrapes, per picture: server CPU (process user +
 * system), decode (decode pool), admission wait, micro-batch wait, session.run per batch, and the
 * mean batch size. Times in ms.
 */
export function stages(before: Series[], after: Series[], pictures: number, modelId: string) {
  const d = (name: string, labels: Record<string, string> = {}) => total(after, name, labels) - total(before, name, labels);
  const m = { model: modelId };
  const mean = (name: string) => {
    const n = d(`${name}_count`, m);
    return n > 0 ? round((1000 * d(`${name}_sum`, m)) / n) : null;
  };
  const batches = d('spectro_inference_batch_size_count', m);
  const meanOf = (name: string, labels: Record<string, string>) => {
    const n = d(`${name}_count`, labels);
    return n > 0 ? round((1000 * d(`${name}_sum`, labels)) / n) : null;
  };
  return {
    serverCpuMsPerPicture: pictures > 0 ? round((1000 * d('process_cpu_seconds_total')) / pictures) : null,
    /** Request to response head on the server (everything below happens inside it). */
    httpRequestMs: meanOf('spectro_http_request_duration_seconds', { method: 'POST', route: '/graphql' }),
    imagesLookupMs: meanOf('spectro_store_operation_duration_seconds', { operation: 'imagesByOwners' }),
    decodeMs: mean('spectro_inference_decode_seconds'),
    admissionWaitMs: mean('spectro_inference_admission_wait_seconds'),
    batchWaitMs: mean('spectro_inference_queue_wait_seconds'),
    runMsPerBatch: mean('spectro_inference_run_seconds'),
    meanBatchSize: batches > 0 ? round(d('spectro_inference_batch_size_sum', m) / batches) : null,
    postprocessMs: mean('spectro_inference_postprocess_seconds'),
    storeCommitMs: meanOf('spectro_store_operation_duration_seconds', { operation: 'addAssessments' }),
    /** Main thread: the round trip to the worker threads (decode + batch wait + run + hops). */
    pipelineMs: meanOf('spectro_inference_stage_seconds', { ...m, stage: 'pipeline' }),
    publishMs: meanOf('spectro_inference_stage_seconds', { ...m, stage: 'publish' }),
    /** The inference service's whole synchronous predict (lookup to publish). */
    predictMs: meanOf('spectro_inference_stage_seconds', { ...m, stage: 'predict' }),
  };
}

/**
 * Each stage's p99 between two scrapes, from the histograms' buckets: the upper bound of the
 * bucket the 99th percentile falls in (ms), so a stage with a tail shows itself.
 */
export function stageTails(before: Series[], after: Series[], modelId: string) {
  const p99 = (name: string, labels: Record<string, string>) => {
    const buckets = new Map<number, number>();
    for (const x of after) {
      if (x.name !== `${name}_bucket` || !Object.entries(labels).every(([k, v]) => x.labels[k] === v)) continue;
      const le = x.labels.le === '+Inf' ? Infinity : Number(x.labels.le);
      const was = before.find((b) => b.name === x.name && Object.entries(x.labels).every(([k, v]) => b.labels[k] === v))?.value ?? 0;
      buckets.set(le, (buckets.get(le) ?? 0) + x.value - was);
    }
    const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
    const total = sorted.at(-1)?.[1] ?? 0;
    if (total === 0) return null;
    const hit = sorted.find(([, n]) => n >= 0.99 * total)!;
    return hit[0] === Infinity ? 'over the last bucket' : `<= ${round(hit[0] * 1000)}`;
  };
  const m = { model: modelId };
  return {
    httpRequest: p99('spectro_http_request_duration_seconds', { method: 'POST', route: '/graphql' }),
    admissionWait: p99('spectro_inference_admission_wait_seconds', m),
    decode: p99('spectro_inference_decode_seconds', m),
    batchWait: p99('spectro_inference_queue_wait_seconds', m),
    run: p99('spectro_inference_run_seconds', m),
    pipelineRoundTrip: p99('spectro_inference_stage_seconds', { ...m, stage: 'pipeline' }),
    postprocess: p99('spectro_inference_postprocess_seconds', m),
    storeCommit: p99('spectro_store_operation_duration_seconds', { operation: 'addAssessments' }),
    servicePredict: p99('spectro_inference_stage_seconds', { ...m, stage: 'predict' }),
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function round(x: number) {
  return Math.round(x * 100) / 100;
}

/** The minimal loop's stages, per picture (ms). */
export interface LoopStages {
  readMs: number;
  decodeMs: number;
  runMs: number;
}

/**
 * Where one synchronous predict at concurrency 1 spends its time beyond the minimal loop (b), stage
 * by stage: the client's latency is split by the server's /metrics means into the stages the
 * loop also has (read + decode, run) and those it does not (HTTP, GraphQL, thread hops, store,
 * publish). The rows add up to the client's mean latency; `b` is the loop's time in that stage.
 */
export function c1Account(b: LoopStages, clientMeanMs: number, s: ReturnType<typeof stages>) {
  const v = (x: number | null) => x ?? 0;
  const decode = v(s.decodeMs);
  const wait = v(s.batchWaitMs);
  const run = v(s.runMsPerBatch);
  const predict = v(s.predictMs);
  const http = v(s.httpRequestMs);
  const rows: [string, number, number][] = [
    ['client and loopback (request out, response back)', 0, clientMeanMs - http],
    ['HTTP + GraphQL + model and item lookups (server request minus the service predict)', 0, http - predict],
    ['image lookup (store)', 0, v(s.imagesLookupMs)],
    ['read + decode + resize (decode pool)', b.readMs + b.decodeMs, decode],
    ['micro-batch wait', 0, wait],
    ['session.run', b.runMs, run],
    ['thread hops (pipeline round trip - decode - wait - run)', 0, v(s.pipelineMs) - decode - wait - run],
    ['post-process (judge)', 0, v(s.postprocessMs)],
    ['store commit', 0, v(s.storeCommitMs)],
    ['publish', 0, v(s.publishMs)],
    [
      'rest of the service predict (admission, regions, commit turn)',
      0,
      predict - v(s.imagesLookupMs) - v(s.pipelineMs) - v(s.postprocessMs) - v(s.storeCommitMs) - v(s.publishMs),
    ],
  ];
  const bTotal = b.readMs + b.decodeMs + b.runMs;
  return {
    bMsPerPicture: round(bTotal),
    c1MeanMs: round(clientMeanMs),
    overheadMs: round(clientMeanMs - bTotal),
    stages: rows.map(([stage, bMs, c1Ms]) => ({ stage, bMs: round(bMs), c1Ms: round(c1Ms), overheadMs: round(c1Ms - bMs) })),
  };
}

/** The account as a Markdown table (stderr of the bench, and BENCHMARKS.md). */
export function accountTable(label: string, a: ReturnType<typeof c1Account>): string {
  const lines = [`| ${label} | (b) ms | c1 ms | overhead ms |`, '|---|---|---|---|'];
  for (const r of a.stages) lines.push(`| ${r.stage} | ${r.bMs} | ${r.c1Ms} | ${r.overheadMs} |`);
  lines.push(`| **total** | ${a.bMsPerPicture} | ${a.c1MeanMs} | ${a.overheadMs} |`);
  return lines.join('\n');
}
