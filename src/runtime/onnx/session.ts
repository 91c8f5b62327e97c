import ort from 'onnxruntime-node';
import { OnnxIO, type InputSpec } from './contract.ts';

/**
 * onnxruntime sessions of models that follow the contract (contract.ts): the options the
 * gateway runs them with and the check every model passes before it is used or imported.
 */
export type Provider = 'cuda' | 'cpu';

export function sessionOptions(provider: Provider, opts: { shared?: boolean } = {}): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: provider === 'cuda' ? [{ name: 'cuda' }] : ['cpu'],
    graphOptimizationLevel: 'all',
    // Warnings of the CPU fallback of single nodes would flood the log for every session.
    logSeverityLevel: 3,
    // In the server the CPUs are shared with HTTP, the store and decoding: onnxruntime's threads
    // must not spin-wait between runs (its default), burning the cores those need.
    ...(opts.shared ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } } : {}),
  };
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
    return m?.isTensor ? m : null;
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
