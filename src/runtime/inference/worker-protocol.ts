import type { InputSpec } from './contract.ts';
import type { ModelShape, Provider } from './sessions.ts';

/** Messages between the inference service (main thread) and its worker thread. */
export type ToWorker =
  | {
      type: 'load';
      id: number;
      modelId: string;
      /** model.onnx on disk (a blob path): the worker reads it itself. */
      onnxPath: string;
      spec: InputSpec;
      batching: { enabled: boolean; maxBatchSize: number; maxQueueDelayMs: number };
    }
  | { type: 'unload'; id: number; modelId: string }
  /** One picture from a file: decoded, batched, run. */
  | { type: 'infer'; id: number; modelId: string; path: string; knownSize: { width: number; height: number } | null }
  /** One preprocessed tensor (warm-up). */
  | { type: 'run'; id: number; modelId: string; tensor: Float32Array; record: boolean };

export interface WorkerOutput {
  map: Float32Array;
  mapWidth: number;
  mapHeight: number;
  score: number;
  /** Upright size of the picture ('infer' only). */
  width: number;
  height: number;
}

export type FromWorker =
  | { type: 'ready'; provider: Provider }
  | { type: 'loaded'; id: number; shape: ModelShape }
  | { type: 'done'; id: number }
  | { type: 'output'; id: number; output: WorkerOutput }
  | { type: 'error'; id: number; message: string; contract?: boolean }
  /** A batch ran; sent before its outputs, so batchSizes() already shows it when they arrive. */
  | { type: 'batch'; size: number };

export interface WorkerData {
  provider: Provider;
}
