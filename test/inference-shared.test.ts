import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, FrameReader } from '../src/runtime/inference/frames.ts';
import { type InferenceServer, startInferenceServer } from '../src/runtime/inference/inference-server.ts';
import { SocketClient } from '../src/runtime/inference/socket-client.ts';
import type { FromSession, ToSession } from '../src/runtime/inference/worker-protocol.ts';
import { goldenOnnx, partPng, SIZE, spec } from './inference-fixtures.ts';
import { addPredictionItems, seedGoldenModel, startServer, type TestServer } from './predict-server.ts';

/**
 * INFERENCE_SOCKET: gateway processes run their models in one shared inference process
 * (`npm run inference`) instead of a session thread each. The answers must be exactly those of a
 * gateway with its own sessions; the process holds one session per model whoever loads it, and
 * runs that arrive together go into one run.
 */
const JUDGED = `result score threshold detectedObjects annotations { xMin xMax yMin yMax score } images { url width height }`;

describe('the shared inference process (INFERENCE_SOCKET)', () => {
  let dir: string;
  let socketPath: string;
  let inference: InferenceServer;
  let shared: TestServer;
  let own: TestServer;
  const pictures: Buffer[] = [];

  const judge = async (ts: TestServer, ids: string[]) => {
    const res = await ts.gql(`mutation($ids: [ID!]!) { predict(modelId: "active", itemIds: $ids) { ${JUDGED} } }`, { ids });
    expect(res.errors).toBeUndefined();
    return Promise.all(
      res.data.predict.map(async ({ images, ...verdict }: { images: { url: string; width: number; height: number }[] }) => ({
        verdict,
        heatmap: Buffer.from(await (await fetch(images[0]!.url)).arrayBuffer()).toString('base64'),
      })),
    );
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-inference-'));
    socketPath = path.join(dir, 'inference.sock');
    inference = await startInferenceServer({ socketPath, provider: 'cpu' });
    pictures.push(await partPng(), await partPng({ defect: { x: 90, y: 90, size: 14 } }), await partPng({ defect: { x: 30, y: 60, size: 10 } }));
    [shared, own] = await Promise.all([startServer({ INFERENCE_SOCKET: socketPath }), startServer()]);
    await Promise.all([seedGoldenModel(shared), seedGoldenModel(own)]);
  });
  afterAll(async () => {
    await Promise.all([shared?.stop(), own?.stop()]);
    await inference?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers with the same verdicts, boxes and heatmaps as a gateway with its own sessions', async () => {
    const before = inference.stats();
    const a = await judge(shared, await addPredictionItems(shared, pictures));
    const b = await judge(own, await addPredictionItems(own, pictures));
    expect(a.map((x) => x.verdict.result)).toEqual(['GOOD', 'BAD', 'BAD']);
    expect(a).toEqual(b);
    // The runs happened in the inference process, on the one session of the model.
    const after = inference.stats();
    expect(after.pictures - before.pictures).toBeGreaterThanOrEqual(pictures.length);
    expect(after.models).toBe(1);
    expect(after.connections).toBe(1);
  });

  it('holds one session per model for every process, merges runs that arrive together, and releases it when the last one leaves', async () => {
    // Two more "gateways" (their pipeline workers' connections) serving the same model file.
    const onnxPath = path.join(dir, 'golden.onnx');
    fs.writeFileSync(onnxPath, goldenOnnx(new Float32Array(SIZE * SIZE).fill(0.5)));
    const clients = [new SocketClient<ToSession, FromSession>(socketPath), new SocketClient<ToSession, FromSession>(socketPath)];
    const modelsBefore = inference.stats().models;
    for (const c of clients) expect((await c.call({ type: 'load', modelId: 'shared-golden', onnxPath, spec })).type).toBe('loaded');
    expect(inference.stats().models).toBe(modelsBefore + 1);

    const before = inference.stats();
    const tensor = (v: number, n = 1) => new Float32Array(n * SIZE * SIZE).fill(v);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        clients[i % 2]!.call({ type: 'run', modelId: 'shared-golden', data: tensor(0.5 + i * 0.05, 1 + (i % 3)), n: 1 + (i % 3) }),
      ),
    );
    const after = inference.stats();
    expect(after.requests - before.requests).toBe(8);
    // All eight were written before the first run ended: they took fewer runs than requests.
    expect(after.runs - before.runs).toBeLessThan(8);
    // Each request got its own pictures back, in its order: |v - 0.5| per picture.
    answers.forEach((r, i) => {
      if (r.type !== 'ran') throw new Error(r.type);
      expect(Array.from(r.scores)).toEqual(Array.from({ length: 1 + (i % 3) }, () => expect.closeTo(i * 0.05, 5)));
      expect(r.maps.length).toBe((1 + (i % 3)) * (SIZE / 4) ** 2);
    });

    await clients[0]!.call({ type: 'unload', modelId: 'shared-golden' });
    expect(inference.stats().models).toBe(modelsBefore + 1);
    await clients[1]!.close();
    await expect.poll(() => inference.stats().models).toBe(modelsBefore);
    await clients[0]!.close();
  });

  it('refuses a frame that is not one of its own, and keeps serving the others', async () => {
    const { connect } = await import('node:net');
    const bad = connect(socketPath);
    await new Promise<void>((resolve) => bad.once('connect', () => resolve()));
    const closed = new Promise<void>((resolve) => bad.once('close', () => resolve()));
    const junk = Buffer.alloc(8);
    junk.writeUInt32BE(0xfffffff0, 0);
    bad.write(junk);
    await closed;
    const ok = await shared.gql(`mutation($ids: [ID!]!) { predict(modelId: "active", itemIds: $ids) { result } }`, {
      ids: await addPredictionItems(shared, pictures.slice(0, 1)),
    });
    expect(ok.errors).toBeUndefined();
  });

  it('a gateway whose inference process went away answers UNAVAILABLE, and works again once it is back', async () => {
    const ids = await addPredictionItems(shared, pictures.slice(0, 1), { prefix: 'gone' });
    await inference.close();
    const down = await shared.gql(`mutation($ids: [ID!]!) { predict(modelId: "active", itemIds: $ids) { result } }`, { ids });
    expect(down.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
    const readiness = await fetch(`${shared.url}/readiness`);
    expect(readiness.status).toBe(503);
    expect(((await readiness.json()) as { checks: Record<string, string> }).checks.inference).toBe('down');
    inference = await startInferenceServer({ socketPath, provider: 'cpu' });
    const back = await shared.gql(`mutation($ids: [ID!]!) { predict(modelId: "active", itemIds: $ids) { result } }`, { ids });
    expect(back.errors).toBeUndefined();
    expect(back.data.predict[0].result).toBe('GOOD');
  });
});

describe('frames', () => {
  it('carry a message with its tensors whole, however the stream cuts them', () => {
    const msg = { type: 'ran', id: 7, maps: Float32Array.from([1.5, -2, 3.25]), scores: Float32Array.from([0.5]), mapWidth: 3, mapHeight: 1 };
    const bytes = Buffer.concat([...encodeFrame(msg), ...encodeFrame({ type: 'done', id: 8 })]);
    for (const cut of [1, 5, 9, bytes.length - 1]) {
      const reader = new FrameReader();
      const got = [...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut))];
      expect(got).toEqual([msg, { type: 'done', id: 8 }]);
      expect(got[0]!.maps).toBeInstanceOf(Float32Array);
    }
  });
});
