import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { generateImage, toPng, type Category, type DefectSpec } from '../bench/synthetic.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logging.ts';
import type { ItemRecord } from '../src/runtime/store/types.ts';
import { createServer, type Server } from '../src/server.ts';
import { deferred, REDIS_URL, until } from './realtime-helpers.ts';
import { scratchSchema } from './store-engines.ts';

export interface Instance {
  server: Server;
  url: string;
  wsUrl: string;
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<{ data: T; errors?: any[] }>;
}

/**
 * Gateway instances on one Redis, each on its own port. Channels get a fresh prefix per cluster.
 * Several instances share one PostgreSQL database (a scratch schema) and one directory of
 * pictures, as instances of one deployment do (the embedded SQLite database is one instance's:
 * a second one on its DATA_DIR is refused); a single instance uses the embedded default.
 */
export async function startCluster(env: Record<string, string> = {}, count = 2) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-realtime-'));
  const prefix = `test-${randomUUID()}:`;
  const schema = count > 1 ? await scratchSchema() : null;
  const base = {
    DATA_DIR: dir,
    ...(schema ? { DATABASE_URL: schema.url } : {}),
    PORT: '0',
    HOST: '127.0.0.1',
    EXECUTION_PROVIDER: 'cpu',
    SPECTRO_CLIENT_ID: 'tester',
    SPECTRO_CLIENT_SECRET: 'tester-secret-0123456789',
    JWT_SECRET: 'realtime-test-secret-0123456789abcdef',
    REDIS_URL,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    ...env,
  };
  const instances: Instance[] = [];
  // One after the other: the second opens the database the first has migrated.
  for (let i = 0; i < count; i++) {
    const server = await createServer(loadConfig(base), { log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
    const { url } = await server.start();
    instances.push({
      server,
      url,
      wsUrl: `${url.replace('http', 'ws')}/graphql`,
      async gql(query, variables = {}, token = null) {
        const res = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-graphql-yoga-csrf': '1',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify({ query, variables }),
        });
        return res.json() as Promise<any>;
      },
    });
  }
  const [a, b = a] = instances as [Instance, Instance?];
  const token = (await a.gql('mutation { token(clientId: "tester", clientSecret: "tester-secret-0123456789") { accessToken } }')).data.token
    .accessToken as string;
  const clients: Client[] = [];
  return {
    a,
    b,
    prefix,
    token,
    /** A graphql-ws client of an instance, authenticated in connection_init. */
    client(instance: Instance, authorization: string | null = `Bearer ${token}`): Client {
      const c = createClient({
        url: instance.wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => {},
        connectionParams: authorization ? { authorization } : {},
      });
      clients.push(c);
      return c;
    },
    /** TRAINING items of generated pictures in the shared store. */
    async addTraining(category: Category, count: number, good = true, defect: DefectSpec | null = null, seed = 1) {
      const store = a.server.services.store;
      const target = (await store.defaultTarget()) ?? (await store.createTarget('line 1', []));
      return addPictures(a, target.id, category, count, { type: 'TRAINING', good, defect, seed });
    },
    async close() {
      await Promise.all(clients.map((c) => c.dispose()));
      await Promise.all(instances.map((i) => i.server.stop()));
      await schema?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function addPictures(
  instance: Instance,
  targetId: string,
  category: Category,
  count: number,
  o: { type: 'TRAINING' | 'PREDICTION'; good: boolean | null; defect?: DefectSpec | null; seed?: number },
): Promise<ItemRecord[]> {
  const store = instance.server.services.store;
  const items = [];
  for (let i = 0; i < count; i++) {
    const img = generateImage(category, { seed: (o.seed ?? 1) + i, size: 64, defect: o.defect ?? null });
    const png = await toPng(img);
    const name = `${category}-${o.seed ?? 1}-${i}.png`;
    items.push({
      name,
      targetId,
      type: o.type,
      good: o.good,
      images: [{ name, blob: await store.blobs.put(png), width: img.width, height: img.height, fileSize: png.byteLength, contentType: 'image/png' }],
    });
  }
  return store.addItems(items);
}

/** Runs a subscription and records its results until `stop` says so (or it completes). */
export function record<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}, stop: (r: T[]) => boolean = () => false) {
  const results: { data?: T; errors?: any[] }[] = [];
  const done = deferred<{ data?: T; errors?: any[] }[]>();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    unsubscribe();
    done.resolve(results);
  };
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (r) => {
        results.push(r as { data?: T; errors?: any[] });
        if (stop(results.flatMap((x) => (x.data ? [x.data] : [])))) finish();
      },
      error: (e) => done.reject(e),
      complete: finish,
    },
  );
  return { results, done: done.promise, stop: finish };
}

/**
 * Waits until `more` subscriptions have been added on an instance since `baseline` (its
 * subscriber count before), every channel acknowledged by Redis.
 */
export async function subscribed(instance: Instance, baseline: number, more = 1) {
  await until(
    () => {
      const s = instance.server.services.pubsub.stats();
      return s.pending === 0 && s.subscribers === baseline + more;
    },
    10_000,
    `${more} more subscriptions`,
  );
}

export const subscribers = (instance: Instance) => instance.server.services.pubsub.stats().subscribers;
