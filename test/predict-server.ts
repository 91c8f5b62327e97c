import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logging.ts';
import type { ModelRecord, TargetRecord } from '../src/runtime/store/types.ts';
import { createServer, type Server, type ServerOptions } from '../src/server.ts';
import { createGoldenModel } from './inference-fixtures.ts';
import { scratchSchema, type TestEngine } from './store-engines.ts';

export interface TestServer {
  server: Server;
  url: string;
  /** The METRICS_PORT server's port, when METRICS_PORT is set. */
  metricsPort: number | null;
  dir: string;
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<{ data: T; errors?: any[] }>;
  /** A multipart request (graphql-multipart-request-spec); `files` maps variable paths to files. */
  upload<T = any>(
    query: string,
    variables: Record<string, unknown>,
    files: Record<string, { name: string; body: Uint8Array; type?: string }>,
  ): Promise<{ data: T; errors?: any[] }>;
  stop(): Promise<void>;
}

/** A gateway on a real port; `engine: 'postgres'` puts its records in a fresh PostgreSQL schema. */
export async function startServer(env: Record<string, string> = {}, opts: Omit<ServerOptions, 'log'> & { engine?: TestEngine } = {}): Promise<TestServer> {
  const { engine, ...serverOptions } = opts;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-predict-'));
  const schema = engine === 'postgres' ? await scratchSchema() : null;
  const config = loadConfig({
    ...(schema ? { DATABASE_URL: schema.url } : {}),
    DATA_DIR: dir,
    PORT: '0',
    HOST: '127.0.0.1',
    EXECUTION_PROVIDER: 'cpu',
    SPECTRO_CLIENT_ID: 'tester',
    SPECTRO_CLIENT_SECRET: 'tester-secret-0123456789',
    LOG_LEVEL: 'silent',
    // The first start hashes the admin's password: the cheapest cost allowed keeps starts quick.
    PASSWORD_SCRYPT_LOG2_N: '14',
    ...env,
  });
  const server = await createServer(config, { log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), ...serverOptions });
  const { url, metricsPort } = await server.start();
  const post = async (body: BodyInit, headers: Record<string, string>) => {
    const res = await fetch(`${url}/graphql`, { method: 'POST', body, headers: { 'x-graphql-yoga-csrf': '1', ...headers } });
    return res.json() as Promise<any>;
  };
  const tokenRes = await post(JSON.stringify({ query: 'mutation { token(clientId: "tester", clientSecret: "tester-secret-0123456789") { accessToken } }' }), {
    'content-type': 'application/json',
  });
  const token = tokenRes.data.token.accessToken as string;
  const auth = { authorization: `Bearer ${token}` };
  return {
    server,
    url,
    metricsPort,
    dir,
    gql: (query, variables = {}) => post(JSON.stringify({ query, variables }), { ...auth, 'content-type': 'application/json' }),
    upload: (query, variables, files) => {
      const form = new FormData();
      form.set('operations', JSON.stringify({ query, variables }));
      const entries = Object.entries(files);
      form.set('map', JSON.stringify(Object.fromEntries(entries.map(([p], i) => [String(i), [`variables.${p}`]]))));
      entries.forEach(([, f], i) => form.set(String(i), new Blob([new Uint8Array(f.body)], { type: f.type ?? 'application/octet-stream' }), f.name));
      return post(form, auth);
    },
    async stop() {
      await server.stop();
      await schema?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A READY golden-image model (see inference-fixtures) in the server's store, active on a fresh default target. */
export async function seedGoldenModel(ts: TestServer, opts: { threshold?: number } = {}): Promise<{ model: ModelRecord; target: TargetRecord }> {
  const { store } = ts.server.services;
  const target = (await store.defaultTarget()) ?? (await store.createTarget('parts', []));
  const created = await createGoldenModel(store, target.id, {
    threshold: opts.threshold,
    params: { pool: '4' },
    patch: {
      stats: {
        accuracy: 1,
        precision: { computed: 1, projected: null },
        recall: { computed: 1, projected: null },
        method: 'test',
        sensitivity: [{ kind: 'spot', size: 1, contrast: 2, scores: [0.05, 0.08, 0.2] }],
      },
    },
  });
  const model = await store.activateModel(created.id);
  return { model, target };
}

/**
 * 128 px PNGs stored as PREDICTION items straight through the store (for tests about predicting:
 * adding items has tests of its own), in the given target or the default one; their ids in order.
 */
export async function addPredictionItems(ts: TestServer, pngs: readonly Buffer[], opts: { targetId?: string; prefix?: string } = {}): Promise<string[]> {
  const { store } = ts.server.services;
  const targetId = opts.targetId ?? (await store.defaultTarget())!.id;
  const prefix = opts.prefix ?? 'p';
  const items = await store.addItems(
    await Promise.all(
      pngs.map(async (png, i) => ({
        name: `${prefix}${i}.png`,
        targetId,
        type: 'PREDICTION' as const,
        good: null,
        images: [{ name: `${prefix}${i}.png`, blob: await store.blobs.put(png), width: 128, height: 128, fileSize: png.byteLength, contentType: 'image/png' }],
      })),
    ),
  );
  return items.map((i) => i.id);
}
