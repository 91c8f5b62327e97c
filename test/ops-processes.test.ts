import fs from 'node:fs';
import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../src/runtime/store/index.ts';
import { freePort, spawnGateway, tempDataDir, type GatewayProcess } from './gateway-process.ts';

/** One GraphQL request on a connection of its own (so the kernel picks a listener for each). */
function freshRequest(port: number, body: string, token: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/graphql',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(JSON.parse(text)));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('several gateway processes on one machine (REUSE_PORT)', () => {
  const processes: GatewayProcess[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.crash()));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('listen on one port and share its connections between them', async () => {
    const port = await freePort();
    // Each process has records of its own here (a target named after it), so an answer shows
    // which process served it; a deployment shares PostgreSQL and Redis instead (docs/operations.md).
    for (const name of ['first', 'second']) {
      const dir = tempDataDir();
      dirs.push(dir);
      const store = await createStore({ dataDir: dir });
      await store.createTarget(name, []);
      await store.close();
      processes.push(await spawnGateway({ dataDir: dir, port, env: { REUSE_PORT: 'on', JWT_SECRET: 'shared-secret-for-every-process-0123456789' } }));
    }
    const token = await processes[0]!.token();
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const r = await freshRequest(port, JSON.stringify({ query: '{ targets { name } }' }), token);
      expect(r.errors).toBeUndefined();
      for (const t of r.data.targets as { name: string }[]) if (t.name === 'first' || t.name === 'second') seen.add(t.name);
    }
    expect([...seen].sort()).toEqual(['first', 'second']);
  });
});
