import yazl from 'yazl';
import type { Services } from '../../context.ts';
import { data, unprocessable } from '../http.ts';
import { formBody, jsonBody, type Route } from '../router.ts';

const MAX_LICENSE_BYTES = 1024 * 1024;

/** `license_data` as a multipart file or field, or a JSON string. */
async function licenseFile(request: Request): Promise<Blob & { name: string }> {
  const type = (request.headers.get('content-type') ?? '').toLowerCase();
  let value: unknown;
  if (type.startsWith('multipart/form-data')) value = (await formBody(request, MAX_LICENSE_BYTES)).get('license_data');
  else value = (await jsonBody(request)).license_data;
  if (value instanceof File) return value;
  if (value instanceof Blob) return new File([value], 'license');
  if (typeof value === 'string' && value !== '') return new File([value], 'license');
  throw unprocessable('license_data', 'license_data is required: the license file as a multipart part or a JSON string');
}

function zip(files: Record<string, string>): Promise<Buffer> {
  const archive = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) archive.addBuffer(Buffer.from(content), name);
  archive.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    archive.outputStream.on('data', (c: Buffer) => chunks.push(c));
    archive.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    archive.outputStream.on('error', reject);
  });
}

/** What a support engineer needs first; never secrets (no credentials, keys or tokens). */
function diagnostics(services: Services, gqlInfo: unknown) {
  const { config } = services;
  return {
    generated_at: new Date().toISOString(),
    gateway: gqlInfo,
    process: {
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
      uptime_s: Math.round(process.uptime()),
      memory: process.memoryUsage(),
    },
    config: {
      execution_provider: config.executionProvider,
      max_batch_size: config.maxBatchSize,
      training_concurrency: config.trainingConcurrency,
      redis: config.redisUrl ? 'configured' : 'none',
      database: services.store.engine,
      upload: config.upload,
      upstreams: Object.keys(config.upstreams),
    },
    pubsub: { health: services.pubsub.health(), ...services.pubsub.stats() },
    store_stats: services.store.stats,
    upstreams: services.upstreams.list().map((u) => ({ name: u.name, url: u.url, ...u.health() })),
  };
}

export const utilRoutes: Route[] = [
  {
    method: 'POST',
    path: '/api/v1/utils',
    // setLicense
    handler: async ({ gql, request }) => {
      const file = await licenseFile(request);
      const { setLicense } = await gql<{ setLicense: { expiresAt: string | null; valid: boolean } }>(
        `mutation ($file: File!) { setLicense(file: $file) { expiresAt valid } }`,
        {},
        [{ variable: 'file', file }],
      );
      return data({ license_expiry: setLicense.expiresAt, valid: setLicense.valid });
    },
  },
  {
    method: 'POST',
    path: '/api/v1/utils/debug',
    // getLogs: logs go to stdout (the deployment collects them); the zip holds the diagnostics.
    handler: async ({ gql, services }) => {
      const info = await gql<unknown>(`{
        nodeHash license { expiresAt valid }
        targets { id name isDefault }
        models(first: 0) { totalCount }
        training: items(type: TRAINING, first: 0) { totalCount }
        prediction: items(type: PREDICTION, first: 0) { totalCount }
      }`);
      const body = await zip({ 'diagnostics.json': JSON.stringify(diagnostics(services, info), null, 2) });
      return new Response(new Uint8Array(body), {
        status: 200,
        headers: {
          'content-type': 'application/zip',
          'content-disposition': `attachment; filename="spectro-debug-${Date.now()}.zip"`,
          'cache-control': 'no-store',
        },
      });
    },
  },
  {
    method: 'POST',
    path: '/api/v1/utils/node_hash',
    handler: async ({ gql }) => {
      const { nodeHash } = await gql<{ nodeHash: string }>(`{ nodeHash }`);
      return data({ hash_id: nodeHash });
    },
  },
];
