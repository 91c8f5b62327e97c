import yazl from 'yazl';
import type { Services } from '../../context.ts';
import { License, LicenseHashResponseWrapper, LicenseResponseWrapper } from '../contract/schemas.ts';
import { z } from '../contract/zod.ts';
import { unprocessable } from '../http.ts';
import { defineOperation, jsonContent, reply, responses } from '../operation.ts';

const MAX_LICENSE_BYTES = 64 * 1024;

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
async function diagnostics(services: Services) {
  const { config } = services;
  return {
    generated_at: new Date().toISOString(),
    gateway: await gatewayInfo(services),
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
    mqtt: services.mqtt?.status() ?? null,
    store_stats: services.store.stats,
    upstreams: services.upstreams.list().map((u) => ({ name: u.name, url: u.url, ...u.health() })),
  };
}

async function gatewayInfo({ store, license }: Services) {
  const count = (type: 'TRAINING' | 'PREDICTION') => store.countItems({ type });
  const [nodeHash, current, targets, models, training, prediction] = await Promise.all([
    license.nodeHash(),
    license.current(),
    store.listTargets(),
    store.listModels({}, { first: 0 }),
    count('TRAINING'),
    count('PREDICTION'),
  ]);
  return {
    node_hash: nodeHash,
    license: current ? { expires_at: current.expiresAt, valid: current.valid } : null,
    targets: targets.map((t) => ({ target_id: t.key, name: t.name, is_default: t.isDefault })),
    models: models.totalCount,
    items: { training, prediction },
  };
}

export const utilOperations = [
  defineOperation({
    operationId: 'setLicense',
    method: 'post',
    path: '/api/v1/utils/',
    tag: 'utils',
    summary: 'Set the license',
    description: 'Installs a license file (docs/license.md), as a multipart file part or a JSON string; 422 says why one is refused.',
    scope: 'all',
    body: { multipart: License, json: License, required: true, maxBytes: MAX_LICENSE_BYTES },
    responses: responses('200', 'OK', jsonContent(LicenseResponseWrapper)),
    handler: async ({ body, services }) => {
      const value = body.license_data;
      const text = typeof value === 'string' ? value : value ? await value.text() : '';
      if (text === '') throw unprocessable('license_data', 'license_data is required: the license file as a multipart part or a JSON string');
      if (text.length > MAX_LICENSE_BYTES) throw unprocessable('license_data', `the license file is larger than ${MAX_LICENSE_BYTES} bytes`);
      const state = await services.license.install(text);
      return reply(LicenseResponseWrapper, { data: { ...(state.expiresAt ? { license_expiry: state.expiresAt } : {}), valid: state.valid } });
    },
  }),
  defineOperation({
    operationId: 'getLogs',
    method: 'post',
    path: '/api/v1/utils/debug',
    tag: 'utils',
    summary: 'Diagnostics as a zip',
    description:
      'A zip holding diagnostics.json: version, process, non-secret configuration, pub/sub state, counts and upstream health. The log itself goes to stdout as JSON lines, where the deployment collects it.',
    scope: 'all',
    responses: responses(
      '200',
      'ZIP file containing the debug logs',
      { 'application/zip': { schema: z.string().meta({ format: 'binary' }) } },
      { unprocessable: false },
    ),
    handler: async ({ services }) => {
      const body = await zip({ 'diagnostics.json': JSON.stringify(await diagnostics(services), null, 2) });
      return new Response(new Uint8Array(body), {
        status: 200,
        headers: {
          'content-type': 'application/zip',
          'content-disposition': `attachment; filename="spectro-debug-${Date.now()}.zip"`,
          'cache-control': 'no-store',
        },
      });
    },
  }),
  defineOperation({
    operationId: 'getHashId',
    method: 'post',
    path: '/api/v1/utils/node_hash',
    tag: 'utils',
    summary: 'Installation hash',
    description: 'Identifies this installation; a license is issued for it.',
    scope: 'read',
    responses: responses('200', 'OK', jsonContent(LicenseHashResponseWrapper), { unprocessable: false }),
    handler: async ({ services }) => reply(LicenseHashResponseWrapper, { data: { hash_id: await services.license.nodeHash() } }),
  }),
];
