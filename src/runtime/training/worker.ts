import type { MessagePort } from 'node:worker_threads';
import sharp from 'sharp';
import type { InputSpec } from '../onnx/contract.ts';
import { channelsOf } from '../images/tensor.ts';
import type { ModelStats } from '../store/types.ts';
import { algorithmById } from './algorithms/index.ts';
import { num } from './algorithms/params.ts';
import { tilingFor, trainingTensors } from './tiling.ts';

/** What the service sends to a worker thread for one job. */
export interface WorkerTask {
  algorithmId: string;
  params: Record<string, string>;
  ok: Uint8Array[];
  ng: Uint8Array[];
  /** Receives `ProgressMessage`s. */
  port: MessagePort;
  /** [0] becomes 1 when the job is to stop (shared memory: seen even inside synchronous loops). */
  cancelFlag: Int32Array;
}

export interface ProgressMessage {
  progress: number;
  stage: string;
  message: string | null;
}

export interface WorkerResult {
  onnx: Uint8Array;
  inputSpec: InputSpec;
  threshold: number;
  stats: ModelStats;
  /** PNG of the model's representative picture (mean OK image). */
  picture: Uint8Array;
  details: Record<string, unknown>;
  /** The automatic choice's pick and reason (absent when an algorithm was named). */
  chosen?: { id: string; version: string; why: string };
}

/**
 * One training job in a worker thread: decodes the pictures exactly as prediction will
 * (`toTensor`), trains, and returns the ONNX bytes and the figures. Cancellation is cooperative:
 * every progress step (and every `signal.aborted` check) reads the shared flag and throws.
 */
export default async function train(task: WorkerTask): Promise<WorkerResult> {
  const { port } = task;
  const stopped = () => Atomics.load(task.cancelFlag, 0) === 1;
  const stop = () => {
    const e = new Error('training cancelled');
    e.name = 'AbortError';
    return e;
  };
  // an AbortSignal whose `aborted` reads the shared flag (no event loop turn needed)
  const signal = Object.defineProperties(new AbortController().signal, {
    aborted: { get: stopped },
    reason: { get: () => (stopped() ? stop() : undefined) },
  });
  const send = (progress: number, stage: string, message: string | null = null) => {
    if (stopped()) throw stop();
    port.postMessage({ progress, stage, message } satisfies ProgressMessage);
  };
  try {
    const algorithm = algorithmById(task.algorithmId);
    if (!algorithm) throw new Error(`unknown algorithm "${task.algorithmId}"`);
    const base = algorithm.inputSpec(task.params);
    send(0, 'loading');
    const tiling = await tilingFor(task.ok, base, num(task.params, 'tile_long_side', 0));
    const spec: InputSpec = tiling ? { ...base, tiling } : base;
    if (tiling) send(0.01, 'loading', `camera-size pictures: judged in ${spec.width}x${spec.height} tiles of a copy with a long side of ${tiling.longSide} px`);
    const decode = async (bytes: Uint8Array[], offset: number) => {
      const tensors: Float32Array[] = [];
      const groups: number[] = [];
      for (const [i, b] of bytes.entries()) {
        if (stopped()) throw stop();
        try {
          for (const t of await trainingTensors(b, spec)) {
            tensors.push(t);
            groups.push(i);
          }
        } catch (e) {
          throw new Error(`picture ${offset + i + 1} could not be decoded: ${(e as Error).message}`);
        }
      }
      return { tensors, groups };
    };
    const ok = await decode(task.ok, 0);
    const ng = await decode(task.ng, task.ok.length);
    send(0.05, 'features');
    const result = await algorithm.train({
      ok: ok.tensors,
      ng: ng.tensors,
      ...(tiling ? { okGroups: ok.groups, ngGroups: ng.groups } : {}),
      spec,
      params: task.params,
      signal,
      progress: (f, stage, message) => send(0.05 + 0.9 * f, stage, message ?? null),
    });
    const picture = await pictureOf(result.representative, result.inputSpec);
    send(0.99, 'exporting');
    return {
      onnx: result.onnx,
      inputSpec: result.inputSpec,
      threshold: result.threshold,
      stats: result.stats,
      picture,
      details: result.details,
      ...(result.chosen ? { chosen: result.chosen } : {}),
    };
  } finally {
    port.close();
  }
}

async function pictureOf(chw: Float32Array, spec: InputSpec): Promise<Uint8Array> {
  const c = channelsOf(spec);
  const plane = spec.width * spec.height;
  const hwc = Buffer.alloc(plane * c);
  for (let i = 0; i < plane; i++) for (let k = 0; k < c; k++) hwc[i * c + k] = Math.round(Math.min(1, Math.max(0, chw[k * plane + i]!)) * 255);
  return sharp(hwc, { raw: { width: spec.width, height: spec.height, channels: c as 1 | 3 } })
    .png()
    .toBuffer();
}
