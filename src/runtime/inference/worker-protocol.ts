import type { MapInput } from './postprocess.ts';
import type { InputSpec } from '../onnx/contract.ts';
import type { ModelShape, Provider } from './sessions.ts';

/*
 * Three threads: main (HTTP, GraphQL, store) -> pipeline worker (decodes with sharp, micro-batches)
 * -> session worker (onnxruntime). onnxruntime-node's `session.run` computes on the calling
 * thread, so it gets one of its own: while a batch runs, the pipeline worker keeps decoding the
 * next pictures and the main thread keeps serving requests.
 */

export interface BatchingOptions {
  enabled: boolean;
  maxBatchSize: number;
  maxQueueDelayMs: number;
  /** Time the model at growing batch sizes on load and cap batches at the best one. */
  calibrate: boolean;
}

/** main -> pipeline worker */
export type ToWorker =
  | { type: 'load'; id: number; modelId: string; onnxPath: string; spec: InputSpec; batching: BatchingOptions }
  | { type: 'unload'; id: number; modelId: string }
  /** One picture from a file: decoded, batched, run. */
  | { type: 'infer'; id: number; modelId: string; path: string; knownSize: { width: number; height: number } | null }
  /** One preprocessed tensor (warm-up), run on its own. */
  | { type: 'run'; id: number; modelId: string; tensor: Float32Array; record: boolean }
  /** Both threads answer (readiness). */
  | { type: 'ping'; id: number };

/** What the worker answers per picture is exactly what post-processing judges. */
export type WorkerOutput = MapInput;

/** One session.run, as the pipeline worker saw it (epoch milliseconds, see telemetry/clock.ts). */
export interface BatchTiming {
  size: number;
  startedAt: number;
  endedAt: number;
  /** session.run alone, measured in the session worker. */
  runMs: number | null;
}

/** Where one picture's time went in the worker threads: read and decode, wait for a batch, the run. */
export interface PictureTiming {
  receivedAt: number;
  decodedAt: number;
  /** Where it was decoded: the pipeline worker itself (`inline`) or a thread of the decode pool. */
  decodedOn?: 'inline' | 'pool';
  batch: BatchTiming;
}

/** pipeline worker -> main */
export type FromWorker =
  | { type: 'loaded'; id: number; shape: ModelShape & { batchCap: number } }
  | { type: 'done'; id: number }
  | { type: 'output'; id: number; output: WorkerOutput; timing?: PictureTiming }
  | { type: 'error'; id: number; message: string; contract?: boolean }
  /** A batch ran (no id: an event); sent before its outputs. `runMs` is null when the run failed. */
  | { type: 'batch'; id?: undefined; modelId: string; size: number; runMs: number | null }
  /** A run of the model passed its deadline: its session thread was given up (an event). */
  | { type: 'stuck'; id?: undefined; modelId: string; deadlineMs: number };

/** pipeline worker -> session worker */
export type ToSession =
  | { type: 'ping'; id: number }
  | { type: 'load'; id: number; modelId: string; onnxPath: string; spec: InputSpec }
  | { type: 'unload'; id: number; modelId: string }
  /** N x C x H x W */
  | { type: 'run'; id: number; modelId: string; data: Float32Array; n: number };

/** session worker -> pipeline worker */
export type FromSession =
  | { type: 'loaded'; id: number; shape: ModelShape }
  | { type: 'done'; id: number }
  /** maps: N x h x w (channel 0 of each map), scores: N */
  | { type: 'ran'; id: number; maps: Float32Array; scores: Float32Array; mapWidth: number; mapHeight: number; runMs?: number }
  | { type: 'error'; id: number; message: string; contract?: boolean };

export interface WorkerData {
  provider: Provider;
  /** Threads of the pipeline worker's decode pool. */
  decodeThreads: number;
  /** DECODE_INLINE: a lone whole picture is decoded on the pipeline worker when the pool is idle. */
  decodeInline?: boolean;
  /** A session.run's deadline (INFERENCE_RUN_TIMEOUT_MS); 0: none. */
  runTimeoutMs?: number;
  /** INFERENCE_SOCKET: run sessions in the shared inference process there, not on a thread of this process. */
  inferenceSocket?: string | null;
}

/** The message of a run that passed its deadline (the main thread answers it as UNAVAILABLE). */
export const DEADLINE_MESSAGE = /ran past its deadline/;
/** The message of a run whose shared inference process (INFERENCE_SOCKET) cannot be reached (UNAVAILABLE too). */
export const UNREACHABLE_MESSAGE = /the shared inference process \(INFERENCE_SOCKET\) is unreachable/;
