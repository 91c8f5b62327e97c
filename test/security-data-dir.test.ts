import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { loadConfig, type Config } from '../src/config.ts';
import { createLogger } from '../src/logging.ts';
import { createServer, type Server } from '../src/server.ts';
import { CLIENT, freePort, spawnGateway, tempDataDir, type GatewayProcess } from './gateway-process.ts';
import { POSTGRES_OFF, scratchSchema, type ScratchSchema } from './store-engines.ts';

/**
 * Attack 11 of issue 9: two instances on one DATA_DIR. With the embedded database the second is
 * refused at start, naming the first; several instances on one PostgreSQL start together without
 * two bootstrap clients, and their first uploads agree on one default target.
 */
const dirs: string[] = [];
const servers: Server[] = [];
const procs: GatewayProcess[] = [];
const schemas: ScratchSchema[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
  for (const p of procs.splice(0)) await p.crash();
  for (const s of schemas.splice(0)) await s.drop();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const dataDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-lock-'));
  dirs.push(d);
  return d;
};
const configFor = (over: Partial<Config>): Config => ({
  ...loadConfig({}),
  port: 0,
  host: '127.0.0.1',
  logLevel: 'silent',
  clientId: null,
  clientSecret: null,
  redisUrl: null,
  executionProvider: 'cpu',
  databaseUrl: null,
  dataDir: dataDir(),
  ...over,
});
const serve = async (config: Config) => {
  const s = await createServer(config, { log: createLogger('silent') });
  servers.push(s);
  return s;
};

/** `node src/main.ts` on a directory, expected to stop at start: its exit code and JSON log lines. */
async function failedStart(dir: string) {
  const child = spawn('node', ['src/main.ts'], {
    cwd: path.resolve(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATA_DIR: dir,
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      EXECUTION_PROVIDER: 'cpu',
      SPECTRO_CLIENT_ID: CLIENT.id,
      SPECTRO_CLIENT_SECRET: CLIENT.secret,
    },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, out };
}

test('a second gateway on the same DATA_DIR is refused at start, naming the first, which keeps serving', async () => {
  const dir = tempDataDir();
  dirs.push(dir);
  const first = await spawnGateway({ command: ['node', 'src/main.ts'], dataDir: dir });
  procs.push(first);

  const second = await failedStart(dir);
  expect(second.code).not.toBe(0);
  expect(second.out).toMatch(new RegExp(`DATA_DIR ${dir} is in use by another gateway \\(process ${first.pid} on ${os.hostname()}`));
  expect(second.out).not.toMatch(/"msg":"listening"/);

  const res = await fetch(`${first.url}/readiness`);
  expect(res.status).toBe(200);
  expect((await first.gql('{ algorithms { id } }', {}, await first.token())).errors).toBeUndefined();
});

test("after kill -9 a restart on the same DATA_DIR takes the dead holder's lock at once", async () => {
  const dir = tempDataDir();
  dirs.push(dir);
  const crashed = await spawnGateway({ command: ['node', 'src/main.ts'], dataDir: dir });
  await crashed.crash();
  expect(fs.existsSync(path.join(dir, 'instance.lock'))).toBe(true);
  const again = await spawnGateway({ command: ['node', 'src/main.ts'], dataDir: dir });
  procs.push(again);
  expect((await fetch(`${again.url}/readiness`)).status).toBe(200);
});

test('two in-process gateways on one DATA_DIR: the second is refused; once the first stops, the directory is free', async () => {
  const first = await serve(configFor({}));
  await expect(createServer(configFor({ dataDir: first.services.config.dataDir }), { log: createLogger('silent') })).rejects.toThrow(
    new RegExp(`in use by another gateway \\(process ${process.pid} on `),
  );
  await first.stop();
  servers.splice(servers.indexOf(first), 1);
  await serve(configFor({ dataDir: first.services.config.dataDir }));
});

test('concurrent first starts on one DATA_DIR print one bootstrap client, never two', async () => {
  const dir = dataDir();
  const results = await Promise.allSettled([1, 2, 3].map(() => createServer(configFor({ dataDir: dir }), { log: createLogger('silent') })));
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  servers.push(...started);
  expect(started).toHaveLength(1);
  expect(started[0]!.bootstrapCredentials).not.toBeNull();
  for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/in use by another gateway/);
});

test.skipIf(POSTGRES_OFF)(
  'instances starting together on one PostgreSQL print one bootstrap client; their first records share one default target',
  async () => {
    const schema = await scratchSchema();
    schemas.push(schema);
    const all = await Promise.all([1, 2, 3, 4].map(() => serve(configFor({ databaseUrl: schema.url }))));
    const printed = all.filter((s) => s.bootstrapCredentials !== null);
    expect(printed).toHaveLength(1);
    expect(await all[0]!.services.store.countClients()).toBe(1);

    // Every instance's first upload at once: no CONFLICT, one target.
    const targets = await Promise.all(all.flatMap((s) => [1, 2, 3].map(() => s.services.targets.forNewRecords(null))));
    expect(new Set(targets.map((t) => t.id)).size).toBe(1);
  },
);
