import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach } from 'vitest';
import { loadConfig, type Config } from '../src/config.ts';
import { createLogger, type Logger } from '../src/logging.ts';
import { createServer, type Server } from '../src/server.ts';
import { scratchSchema, type TestEngine } from './store-engines.ts';
import type { Scope } from '../src/runtime/store/types.ts';

export interface GraphResult<T = Record<string, any>> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface Gateway {
  server: Server;
  config: Config;
  /** A token of a fresh client with that scope. */
  /** A token of a new client with these scopes ("all", "read", or names such as "read predict"). */
  token(scope?: Scope): Promise<string>;
  /** In-process GraphQL request through yoga.fetch (no socket). */
  gql<T = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
    headers?: Record<string, string>,
  ): Promise<GraphResult<T>>;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/**
 * A gateway on a fresh data directory and, with `engine: 'postgres'`, its records in a fresh
 * PostgreSQL schema (store-engines.ts); `close()` stops it and removes both.
 */
export async function startGateway(overrides: Partial<Config> = {}, opts: { log?: Logger; engine?: TestEngine } = {}): Promise<Gateway> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-graph-'));
  const schema = opts.engine === 'postgres' ? await scratchSchema() : null;
  const config: Config = {
    ...loadConfig({}),
    port: 0,
    host: '127.0.0.1',
    dataDir,
    logLevel: 'silent',
    clientId: null,
    clientSecret: null,
    redisUrl: null,
    executionProvider: 'cpu',
    databaseUrl: schema?.url ?? null,
    // The first start hashes the admin's password: the cheapest cost allowed keeps starts quick.
    passwordScryptLog2N: 14,
    ...overrides,
  };
  let server: Server;
  try {
    server = await createServer(config, { log: opts.log ?? createLogger(config.logLevel) });
  } catch (err) {
    await schema?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const { yoga, services } = server;
  const yogaFetch = yoga.fetch as (url: string, init?: RequestInit) => Promise<Response> | Response;
  const fetchIt = (p: string, init?: RequestInit) => Promise.resolve(yogaFetch(`http://gateway.test${p}`, init));
  return {
    server,
    config,
    async token(scope = 'all') {
      const { clientId, clientSecret } = await services.auth.createClient(scope, `test-${scope}`);
      return (await services.auth.issueToken(clientId, clientSecret)).accessToken;
    },
    async gql(query, variables, token, headers = {}) {
      const res = await fetchIt('/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as Omit<GraphResult, 'status' | 'headers'>;
      return { status: res.status, headers: res.headers, ...body } as GraphResult<any>;
    },
    fetch: fetchIt,
    async close() {
      await server.stop();
      await schema?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A small picture with a gradient and a spot, so that every image has distinct bytes. */
export async function testImage(format: 'png' | 'jpeg', seed: number, size = 64): Promise<Buffer> {
  const raw = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      raw[i] = (x * 4 + seed * 13) & 0xff;
      raw[i + 1] = (y * 4 + seed * 7) & 0xff;
      raw[i + 2] = Math.hypot(x - (seed % size), y - size / 2) < 6 ? 255 : 40;
    }
  }
  const img = sharp(raw, { raw: { width: size, height: size, channels: 3 } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 90 }).toBuffer();
}

/** Throws with the errors when the result has any; returns the data. */
export function dataOf<T>(result: GraphResult<T>): T {
  if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

export const codesOf = (result: GraphResult) => (result.errors ?? []).map((e) => e.extensions?.code);

const ADD_ITEMS = /* GraphQL */ `
  mutation AddItems($files: [File!]!, $training: Boolean!, $good: Boolean, $targetId: ID) {
    addItems(files: $files, training: $training, good: $good, targetId: $targetId) { items { id name } }
  }
`;

/**
 * `addItems` as a client sends it: a multipart request (GraphQL multipart request spec) over the
 * gateway's real HTTP socket (`server.start()` first; `baseUrl` is what it answered).
 */
export async function uploadItems(
  baseUrl: string,
  token: string,
  files: { name: string; bytes: Uint8Array; type?: string }[],
  variables: { training: boolean; good?: boolean | null; targetId?: string | null },
): Promise<{ id: string; name: string }[]> {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: ADD_ITEMS, variables: { ...variables, files: files.map(() => null) } }));
  form.set('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.files.${i}`]]))));
  files.forEach((f, i) => form.set(String(i), new Blob([new Uint8Array(f.bytes)], { type: f.type ?? 'image/png' }), f.name));
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${token}`, 'x-graphql-yoga-csrf': '1' },
  });
  return dataOf((await res.json()) as GraphResult<{ addItems: { items: { id: string; name: string }[] } }>).addItems.items;
}

/**
 * `start(env)`: a gateway with the security settings of `env` (as the process would read them),
 * closed after each test. Registers the `afterEach` of the file that calls it.
 */
export function gatewaysPerTest(): (env?: Record<string, string>) => Promise<Gateway> {
  const started: Gateway[] = [];
  afterEach(async () => {
    for (const g of started.splice(0)) await g.close();
  });
  return async (env = {}) => {
    const g = await startGateway({ security: loadConfig(env).security });
    started.push(g);
    return g;
  };
}
