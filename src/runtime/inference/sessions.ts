import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/index.ts';
import { sessionOptions, type Provider } from '../onnx/session.ts';

export type { ModelShape, Provider } from '../onnx/session.ts';

export interface Logger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  debug?(obj: unknown, msg?: string): void;
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
    log[level]({ provider: 'cpu', requested, reason: (err as Error).message.split('\n')[0] }, 'inference: CUDA provider not available, execution provider cpu');
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
