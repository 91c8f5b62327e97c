import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, decodeModel, f } from '../src/runtime/onnx/index.ts';

describe('ONNX graph builder', () => {
  it('builds a model onnxruntime runs with the declared inputs and outputs', async () => {
    const g = new GraphBuilder('t');
    const x = g.input('images', ['N', 1, 4, 4]);
    // 3x3 box filter, then a LeakyRelu with a float attribute given as an integer value.
    const w = g.constant(new Float32Array(9).fill(1 / 9), [1, 1, 3, 3]);
    const conv = g.op('Conv', [x, w], { pads: [1, 1, 1, 1] });
    const scaled = g.op('Mul', [conv, g.scalar(2)]);
    const leaky = g.op('LeakyRelu', [scaled], { alpha: f(1) });
    g.output(leaky, 'anomaly_map', ['N', 1, 4, 4]);
    const score = g.op('ReduceMax', [leaky], { axes: [1, 2, 3], keepdims: 0 });
    g.output(score, 'score', ['N']);
    const bytes = g.toBytes({ algorithm: 'test' });

    const decoded = decodeModel(bytes);
    expect(Number(decoded.opsetImport[0]?.version)).toBe(17);
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['images']);
    expect(session.outputNames).toEqual(['anomaly_map', 'score']);
    const data = new Float32Array(2 * 16).fill(0.5);
    data[16 + 5] = 1; // second image has a bright pixel
    const out = await session.run({ images: new ort.Tensor('float32', data, [2, 1, 4, 4]) });
    const s = out.score!.data as Float32Array;
    expect(out.anomaly_map!.dims).toEqual([2, 1, 4, 4]);
    expect(s[0]).toBeCloseTo(1, 5); // centre of a constant 0.5 image: 2 * 0.5
    expect(s[1]!).toBeGreaterThan(s[0]!);
    await session.release();
  });

  it('refuses a name used twice and an initializer of the wrong size', () => {
    const g = new GraphBuilder();
    g.input('images', [1]);
    expect(() => g.input('images', [1])).toThrow(/twice/);
    expect(() => g.constant([1, 2, 3], [2, 2])).toThrow(/need 4/);
  });
});
