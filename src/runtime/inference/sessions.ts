import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/index.ts';
import { OnnxIO, type InputSpec } from './contract.ts';

export type Provider = 'cuda' | 'cpu';

export interface Logger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  debug?(obj: unknown, msg?: string): void;
}

export function sessionOptions(provider: Provider, opts: { shared?: boolean } = {}): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: provider === 'cuda' ? [{ name: 'cuda' }] : ['cpu'],
    graphOptimizationLevel: 'all',
    // Warnings of the CPU fallback of single nodes would flood the log for every session.
    logSeverityLevel: 3,
    // In the server the CPUs are shared with HTTP, the store and decoding: onnxruntime's threads
    // must not spin-wait between runs (its default), burning the cores those need.
    ...(opts.shared
      ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } }
      : {}),
  };
}

/**
 * Picks the execution provider: 'cuda' when asked for (or 'auto') and a session with the CUDA
 * provider actually starts; 'cpu' otherwise. The npm package of onnxruntime-node carries only
 * the CPU provider, so on most machines 'auto' ends on 'cpu'.
 */
export async function chooseProvider(requested: 'cpu' | 'cuda' | 'auto', log: Logger): Promise<Provider> {
  if (requested === 'cpu') {
    log.info({ provider: 'cpu', requested }, 'inference: execution provider cpu');
    return 'cpu';
  }
  if (requested === 'auto' && !cudaProviderInstalled()) {
    // Probing without the library makes onnxruntime print a native error line on every start.
    log.info({ provider: 'cpu', requested }, 'inference: no CUDA provider library installed, execution provider cpu');
    return 'cpu';
  }
  try {
    const g = new GraphBuilder('probe');
    const x = g.input('x', [1]);
    g.output(g.op('Relu', [x]), 'y', [1]);
    const s = await ort.InferenceSession.create(g.toBytes(), sessionOptions('cuda'));
    await s.run({ x: new ort.Tensor('float32', new Float32Array([1]), [1]) });
    await s.release();
    log.info({ provider: 'cuda', requested }, 'inference: execution provider cuda');
    return 'cuda';
  } catch (err) {
    const level = requested === 'cuda' ? 'warn' : 'info';
    log[level](
      { provider: 'cpu', requested, reason: (err as Error).message.split('\n')[0] },
      'inference: CUDA provider not available, execution provider cpu',
    );
    return 'cpu';
  }
}

/** True when libonnxruntime_providers_cuda.so sits beside onnxruntime-node's native binding. */
function cudaProviderInstalled(): boolean {
  try {
    const pkg = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const dir = path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
    return fs.existsSync(path.join(dir, 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

/** What a session looks like once checked against the contract. */
export interface ModelShape {
  /** Fixed batch size of the model's input, or null when the batch dimension is dynamic. */
  fixedBatch: number | null;
  channels: number | string;
  height: number | string;
  width: number | string;
}

/**
 * Checks a loaded session against the input/output contract (contract.ts) and, when given, the
 * declared input spec. Throws an Error whose message says what differs.
 */
export function checkContract(session: ort.InferenceSession, spec?: InputSpec): ModelShape {
  const meta = (list: readonly ort.InferenceSession.ValueMetadata[], name: string) => {
    const m = list.find((v) => v.name === name);
    return m && m.isTensor ? m : null;
  };
  const input = meta(session.inputMetadata, OnnxIO.input);
  if (!input) {
    throw new Error(`the model's input must be a tensor named "${OnnxIO.input}" (it has: ${session.inputNames.join(', ') || 'none'})`);
  }
  if (session.inputNames.length !== 1) {
    throw new Error(`the model must have exactly one input ("${OnnxIO.input}"), it has ${session.inputNames.length}`);
  }
  if (input.type !== 'float32') throw new Error(`input "${OnnxIO.input}" must be float32, it is ${input.type}`);
  if (input.shape.length !== 4) {
    throw new Error(`input "${OnnxIO.input}" must have rank 4 [N, C, H, W], it has rank ${input.shape.length}`);
  }
  const outputs: [string, number][] = [
    [OnnxIO.anomalyMap, 4],
    [OnnxIO.score, 1],
  ];
  for (const [name, rank] of outputs) {
    const out = meta(session.outputMetadata, name);
    if (!out) {
      throw new Error(`the model must have an output named "${name}" (it has: ${session.outputNames.join(', ') || 'none'})`);
    }
    if (out.type !== 'float32') throw new Error(`output "${name}" must be float32, it is ${out.type}`);
    if (out.shape.length !== rank) throw new Error(`output "${name}" must have rank ${rank}, it has rank ${out.shape.length}`);
  }
  const [n, c, h, w] = input.shape as [number | string, number | string, number | string, number | string];
  if (spec) {
    const expect: [string, number | string, number][] = [
      ['channels', c, spec.color === 'rgb' ? 3 : 1],
      ['height', h, spec.height],
      ['width', w, spec.width],
    ];
    for (const [what, actual, wanted] of expect) {
      if (typeof actual === 'number' && actual > 0 && actual !== wanted) {
        throw new Error(`input "${OnnxIO.input}" has ${what} ${actual}, the manifest declares ${wanted}`);
      }
    }
  }
  return { fixedBatch: typeof n === 'number' && n > 0 ? n : null, channels: c, height: h, width: w };
}

/** A session from model bytes or a model file path. */
export async function createSession(source: Uint8Array | string, provider: Provider): Promise<ort.InferenceSession> {
  return typeof source === 'string'
    ? ort.InferenceSession.create(source, sessionOptions(provider, { shared: true }))
    : ort.InferenceSession.create(source, sessionOptions(provider, { shared: true }));
}
