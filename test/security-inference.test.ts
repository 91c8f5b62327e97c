import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeToTensor } from '../src/runtime/images/tensor.ts';
import { spawnGateway, tempDataDir, type GatewayProcess } from './gateway-process.ts';
import { goldenOnnx, partPng, spec } from './inference-fixtures.ts';
import { archiveOf, hangsOnRealPicturesOnnx } from './security-fixtures.ts';

/**
 * Attack 4 of issue 9: a model that hangs only on real pictures blocked the one session thread
 * for every model, and the shutdown then hung. Per-run deadlines, the other models served by a
 * fresh thread, and a shutdown that always ends. A separate process: a thread stuck in native
 * code keeps the process it is in from exiting normally. Twice: with the gateway's own sessions,
 * and with its sessions in a shared inference process (INFERENCE_SOCKET), which keeps the
 * deadline itself.
 */
const DEADLINES = { INFERENCE_RUN_TIMEOUT_MS: '3000', DRAIN_TIMEOUT_MS: '3000', BATCH_CALIBRATION: 'off' };

/** `npm run inference` as a process; resolves once it serves its socket. */
async function spawnInference(socketPath: string): Promise<{ child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }> {
  const child = spawn(process.execPath, ['src/inference-main.ts'], {
    env: { ...process.env, ...DEADLINES, INFERENCE_SOCKET: socketPath, EXECUTION_PROVIDER: 'cpu', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('inference: serving')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the inference process exited ${code}`)));
  });
  return { child, exited };
}

describe.each(['own sessions', 'a shared inference process'] as const)('with %s', (mode) => {
  let gw: GatewayProcess;
  let token: string;
  let inference: Awaited<ReturnType<typeof spawnInference>> | null = null;
  let dir: string;
  beforeAll(async () => {
    dir = tempDataDir();
    const socketPath = path.join(dir, 'inference.sock');
    if (mode === 'a shared inference process') inference = await spawnInference(socketPath);
    gw = await spawnGateway({ command: ['node', 'src/main.ts'], env: { ...DEADLINES, ...(inference ? { INFERENCE_SOCKET: socketPath } : {}) } });
    token = await gw.token();
  }, 120_000);
  afterAll(async () => {
    await gw?.crash().catch(() => {});
    if (gw) fs.rmSync(gw.dataDir, { recursive: true, force: true });
    inference?.child.kill('SIGKILL');
    await inference?.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function multipart(query: string, files: { name: string; body: Uint8Array; type: string }[], extra: Record<string, unknown> = {}) {
    const form = new FormData();
    const variables = { ...extra, f: files.map(() => null) };
    form.append('operations', JSON.stringify({ query, variables }));
    form.append('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.f.${i}`]]))));
    files.forEach((f, i) => form.append(String(i), new Blob([new Uint8Array(f.body)], { type: f.type }), f.name));
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'x-graphql-yoga-csrf': '1' }, body: form });
    return res.json() as Promise<any>;
  }

  const importModel = async (onnx: Uint8Array) => {
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: 'mutation($file: File!) { importModels(file: $file) { id } }', variables: { file: null } }));
    form.append('map', JSON.stringify({ 0: ['variables.file'] }));
    form.append('0', new Blob([new Uint8Array(await archiveOf(onnx))], { type: 'application/zip' }), 'models.zip');
    const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'x-graphql-yoga-csrf': '1' }, body: form });
    const body = (await res.json()) as any;
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return body.data.importModels[0].id as string;
  };

  test('a run past its deadline fails, the model is refused, the other models go on, and the shutdown ends', async () => {
    const golden = await importModel(goldenOnnx((await decodeToTensor(await partPng(), spec)).data));
    // The import check passes: on its blank picture the loop makes no trips.
    const hostile = await importModel(hangsOnRealPicturesOnnx());
    const added = await multipart('mutation($f: [File!]!) { addItems(files: $f, training: false) { items { id } } }', [
      { name: 'part.png', body: await partPng(), type: 'image/png' },
    ]);
    expect(added.errors, JSON.stringify(added.errors)).toBeUndefined();
    const itemIds = added.data.addItems.items.map((i: { id: string }) => i.id);
    const predict = (modelId: string) =>
      gw.gql('mutation($m: ID!, $ids: [ID!]!) { predict(modelId: $m, itemIds: $ids) { score result } }', { m: modelId, ids: itemIds }, token);

    const stuck = await predict(hostile);
    expect(stuck.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
    expect(stuck.errors?.[0]?.message).toMatch(/ran past its deadline of 3000 ms/);
    // (The shared process gives up the run at 3 s; the gateway itself would wait twice as long.)
    if (inference) expect(stuck.errors?.[0]?.message).toMatch(/in the shared inference process/);
    // The other model runs on a fresh session thread.
    const ok = await predict(golden);
    expect(ok.errors, JSON.stringify(ok.errors)).toBeUndefined();
    expect(ok.data.predict).toHaveLength(1);
    // The hostile one is refused at once from now on, without taking another thread.
    const again = await predict(hostile);
    expect(again.errors?.[0]?.message).toMatch(/ran past its deadline/);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);

    // The stuck thread would keep process.exit waiting forever: the shutdown still ends. (With a
    // shared inference process the stuck thread is that process's, and the gateway exits plainly.)
    process.kill(gw.pid, 'SIGTERM');
    const exit = await gw.exited;
    expect(exit.code === 0 || exit.signal === 'SIGKILL', JSON.stringify(exit)).toBe(true);
    if (!inference) expect(gw.logs.some((l) => String(l.msg).startsWith('exiting with SIGKILL'))).toBe(true);
    else {
      // The inference process holds the stuck thread: its shutdown ends too.
      inference.child.kill('SIGTERM');
      const ended = await inference.exited;
      expect(ended.code === 0 || ended.signal === 'SIGKILL', JSON.stringify(ended)).toBe(true);
    }
  }, 180_000);
});
