import ort from 'onnxruntime-node';
import { badInput } from '../../errors.ts';
import { OnnxIO, type InputSpec } from '../onnx/contract.ts';
import { checkContract, createSession, type Provider } from '../onnx/session.ts';

/**
 * Loads the ONNX bytes (or file) in onnxruntime, checks names, types and ranks against the contract and the
 * manifest's input, then runs one blank picture and checks what comes back.
 */
export async function verifyOnnx(bytes: Uint8Array | string, spec: InputSpec, provider: Provider, label: string): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = await createSession(bytes, provider);
  } catch (err) {
    throw badInput(`${label}: onnxruntime cannot load the model: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    try {
      checkContract(session, spec);
    } catch (err) {
      throw badInput(`${label}: ${(err as Error).message}`);
    }
    const c = spec.color === 'rgb' ? 3 : 1;
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await session.run({
        [OnnxIO.input]: new ort.Tensor('float32', new Float32Array(c * spec.height * spec.width), [1, c, spec.height, spec.width]),
      });
    } catch (err) {
      throw badInput(`${label}: the model fails on a ${spec.width}x${spec.height} ${spec.color} picture: ${(err as Error).message.split('\n')[0]}`);
    }
    const map = out[OnnxIO.anomalyMap]!;
    const score = out[OnnxIO.score]!;
    if (Number(map.dims[0]) !== 1 || Number(map.dims[1]) !== 1 || Number(map.dims[2]) < 1 || Number(map.dims[3]) < 1) {
      throw badInput(`${label}: output "${OnnxIO.anomalyMap}" must be [N, 1, h, w], it came back as [${map.dims.join(', ')}]`);
    }
    if (score.dims.length !== 1 || Number(score.dims[0]) !== 1) {
      throw badInput(`${label}: output "${OnnxIO.score}" must be [N], it came back as [${score.dims.join(', ')}]`);
    }
  } finally {
    await session.release().catch(() => {});
  }
}
