import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logging.ts';
import { createServer, type Server } from '../src/server.ts';
import { checkedFetch, createResponseChecker, type ResponseChecker } from './openapi-validator.ts';

export const CLIENT_ID = 'rest-tester';
export const CLIENT_SECRET = 'rest-tester-secret-0123456789';

export interface RestServer {
  server: Server;
  url: string;
  port: number;
  dir: string;
  token: string;
  /** Checks REST answers against the served OpenAPI document (every `call` and `fetch` goes through it). */
  checker: ResponseChecker;
  /** fetch on the gateway's URL (a path), its answer checked against the OpenAPI document. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** A REST call with the bearer token (unless `auth: null`); JSON bodies are serialised; the answer is checked. */
  call(method: string, path: string, opts?: { json?: unknown; form?: FormData; auth?: string | null }): Promise<Response>;
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<{ data: T; errors?: any[] }>;
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

/** A real gateway on a free port (or `port`), with a fresh data dir unless `dir` is given. */
export async function startRestServer(env: Record<string, string> = {}, reuse: { dir?: string; port?: number } = {}): Promise<RestServer> {
  const dir = reuse.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-rest-'));
  const config = loadConfig({
    DATA_DIR: dir,
    PORT: String(reuse.port ?? 0),
    HOST: '127.0.0.1',
    EXECUTION_PROVIDER: 'cpu',
    SPECTRO_CLIENT_ID: CLIENT_ID,
    SPECTRO_CLIENT_SECRET: CLIENT_SECRET,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const server = await createServer(config, { log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
  const { url, port } = await server.start();
  const tokenRes = await fetch(`${url}/api/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
  });
  const token = ((await tokenRes.json()) as { access_token: string }).access_token;
  const checker = await createResponseChecker(await (await fetch(`${url}/api/v1/openapi.json`)).json());
  const checked = checkedFetch(checker);
  const call: RestServer['call'] = (method, p, opts = {}) => {
    const headers: Record<string, string> = {};
    const auth = opts.auth === undefined ? token : opts.auth;
    if (auth) headers.authorization = `Bearer ${auth}`;
    let body: BodyInit | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.form) body = opts.form;
    return checked(`${url}${p}`, { method, headers, body });
  };
  return {
    server,
    url,
    port,
    dir,
    token,
    checker,
    fetch: (p, init) => checked(`${url}${p}`, init),
    call,
    async gql(query, variables = {}) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return res.json() as Promise<any>;
    },
    async stop(opts = {}) {
      await server.stop();
      if (!opts.keepData) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A small grey PNG with a lighter square, so different seeds give different files. */
export function png(seed: number, side = 32): Promise<Buffer> {
  const pixels = Buffer.alloc(side * side, 90);
  for (let y = 4; y < 12; y++) for (let x = 4 + (seed % 8); x < 12 + (seed % 8); x++) pixels[y * side + x] = 200;
  return sharp(pixels, { raw: { width: side, height: side, channels: 1 } })
    .png()
    .toBuffer();
}
