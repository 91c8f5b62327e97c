import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { allGone, type GatewayProcess, processTree, spawnGateway } from './gateway-process.ts';
import { deferred } from './realtime-helpers.ts';

const DRAIN_MS = 6000;
const started: GatewayProcess[] = [];
afterEach(async () => {
  for (const gw of started.splice(0)) {
    await gw.crash().catch(() => {}); // a no-op once it stopped by itself
    fs.rmSync(gw.dataDir, { recursive: true, force: true });
  }
});

/**
 * A request the server has accepted but not finished: `Expect: 100-continue` makes the client
 * wait for the server's "100 Continue" (sent once the request is being handled) before the body.
 */
async function inFlightRequest(port: number, token: string) {
  const body = JSON.stringify({ query: '{ nodeHash }' });
  const response = deferred<{ status: number; body: string }>();
  const accepted = deferred();
  const req = http.request({
    host: '127.0.0.1',
    port,
    path: '/graphql',
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}`, expect: '100-continue' },
  });
  req.on('continue', () => accepted.resolve());
  req.on('response', (res) => {
    let text = '';
    res.setEncoding('utf8').on('data', (c) => (text += c));
    res.on('end', () => response.resolve({ status: res.statusCode!, body: text }));
  });
  req.on('error', response.reject);
  response.promise.catch(() => {}); // awaited below; a crash in a failing test must not add an unhandled rejection
  req.flushHeaders();
  await accepted.promise;
  return { finish: () => req.end(body), response: response.promise };
}

const refusesConnections = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = http.get({ host: '127.0.0.1', port, path: '/health' }, (res) => {
      res.resume();
      resolve(false);
    });
    probe.on('error', () => resolve(true));
  });

/** Command line of a process, for telling the server among npm's processes. */
const cmdline = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');

/**
 * Sends `signal` to `target` (a pid, or minus a process group id), with a request in flight, and
 * checks the drain: the server stops accepting, answers the request, and every process of the
 * tree is gone within DRAIN_TIMEOUT_MS.
 */
async function drainsOn(gw: GatewayProcess, signal: NodeJS.Signals, target: number) {
  const tree = processTree(gw.pid);
  const server = tree.find((pid) => / src\/main\.ts/.test(cmdline(pid)));
  expect(server, `no node src/main.ts among ${tree.map(cmdline).join(' | ')}`).toBeDefined();
  const token = await gw.token();
  const request = await inFlightRequest(gw.port, token);

  const t0 = Date.now();
  process.kill(target, signal);
  const stopping = await gw.logged((l) => l.msg === 'stopping: draining in-flight requests');
  expect(stopping.active).toBeGreaterThanOrEqual(1);
  expect(await refusesConnections(gw.port)).toBe(true);

  request.finish();
  const res = await request.response;
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body).data.nodeHash).toMatch(/^[0-9a-f]{64}$/);

  await allGone(tree, DRAIN_MS);
  expect(Date.now() - t0).toBeLessThan(DRAIN_MS);
  const exit = await gw.exited;
  expect(gw.logs.some((l) => l.msg === 'second signal: exiting at once')).toBe(false);
  expect(gw.logs.at(-1)?.msg).toBe('stopped');
  return exit;
}

describe('the process that `npm start` starts receives the signals and drains', () => {
  test('SIGTERM to the npm process: the in-flight request completes and every process exits within the drain timeout', async () => {
    const gw = await spawnGateway({ env: { DRAIN_TIMEOUT_MS: String(DRAIN_MS) } });
    started.push(gw);
    const exit = await drainsOn(gw, 'SIGTERM', gw.pid);
    // npm hands the server's outcome on: a clean stop, or the signal it forwarded.
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
  });

  test('Ctrl-C (SIGINT to the whole process group, npm forwarding it again) drains once instead of exiting at once', async () => {
    const gw = await spawnGateway({ env: { DRAIN_TIMEOUT_MS: String(DRAIN_MS) } });
    started.push(gw);
    const exit = await drainsOn(gw, 'SIGINT', -gw.pid);
    expect(exit.code === 0 || exit.signal === 'SIGINT').toBe(true);
  });
});

describe("the Docker image's CMD", () => {
  const dockerfile = fs.readFileSync(path.resolve(import.meta.dirname, '../Dockerfile'), 'utf8');
  const cmds = [...dockerfile.matchAll(/^CMD\s+(.+)$/gm)].map((m) => JSON.parse(m[1]!) as string[]);

  test('runs node on the entry point directly (exec form, no npm or shell between docker and the server)', () => {
    expect(cmds.length).toBeGreaterThanOrEqual(2); // the cuda and cpu stages
    for (const cmd of cmds) expect(cmd).toEqual(['node', 'src/main.ts']);
  });

  test('SIGTERM (docker stop) to that command drains the in-flight request and exits 0 within the drain timeout', async () => {
    const gw = await spawnGateway({ command: cmds.at(-1)!, env: { DRAIN_TIMEOUT_MS: String(DRAIN_MS) } });
    started.push(gw);
    expect(processTree(gw.pid)).toEqual([gw.pid]); // the server is the process docker signals
    const exit = await drainsOn(gw, 'SIGTERM', gw.pid);
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
