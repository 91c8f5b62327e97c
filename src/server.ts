import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { drainRefusedBodies } from './http/refused-bodies.ts';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, type Plugin, type YogaLogger } from 'graphql-yoga';
import type { Config } from './config.ts';
import { createContextFactory, type Context, type Services } from './context.ts';
import { limitMultipartParts, limitRequestBodies, uploadsNeedWriter } from './http/body-limit.ts';
import { auditMutations } from './http/audit-plugin.ts';
import { clientBudgets, corsOptions, introspection, securityHeaders } from './http/safe-defaults.ts';
import { errorCodes, maskedErrors } from './http/errors.ts';
import { graphqlJit } from './http/graphql-jit.ts';
import { requestLogging } from './http/request-log.ts';
import { loadTrustedDocuments, trustedDocumentsPlugins } from './http/trusted-documents.ts';
import { httpRoutes } from './http/routes.ts';
import { dashboardDir, NOT_BUILT } from './http/dashboard.ts';
import { sessionCookies } from './http/session-cookie.ts';
import { createLogger, currentLog, type Logger } from './logging.ts';
import { createObservability, type Observability } from './observability/index.ts';
import { createAccounts } from './runtime/auth/accounts.ts';
import { createAuth } from './runtime/auth/auth.ts';
import { createRateLimits } from './runtime/limits/rate-limit.ts';
import { createAuditService } from './runtime/audit/audit.ts';
import { createUrlSigner } from './runtime/images/signed-url.ts';
import { createInferenceService } from './runtime/inference/index.ts';
import { createItemsService } from './runtime/items/index.ts';
import { createBullJobs } from './runtime/jobs/bullmq.ts';
import type { JobRunner } from './runtime/jobs/jobs.ts';
import { createLocalJobs } from './runtime/jobs/local.ts';
import { scheduleSweeps } from './runtime/jobs/sweeps.ts';
import { createLicenseService } from './runtime/license/license.ts';
import { defaultArchiveLimits } from './runtime/models/archive.ts';
import { createModelsService } from './runtime/models/index.ts';
import { createPredictionsService } from './runtime/predictions/index.ts';
import { createPubSub } from './runtime/pubsub/index.ts';
import { createStore } from './runtime/store/index.ts';
import { lockDataDir } from './runtime/store/data-dir-lock.ts';
import { createTargetsService } from './runtime/targets/index.ts';
import { createTrainingService } from './runtime/training/index.ts';
import { createUpstreams } from './runtime/upstream/index.ts';
import { createIntegrationEvents } from './runtime/events/events.ts';
import { createMqttPublisher } from './runtime/mqtt/index.ts';
import { createWebhooksService } from './runtime/webhooks/index.ts';
import { restRoutes } from './rest/index.ts';
import { schema } from './schema/index.ts';
import { attachGraphqlWs } from './transport/graphql-ws.ts';
import { openSubscriptions } from './transport/open-subscriptions.ts';
import { useSharedSubscriptionExecution } from './transport/shared-execution.ts';

export const GRAPHQL_PATH = '/graphql';
/** What an instance with ROLE=worker answers on its port. */
const WORKER_PATHS: ReadonlySet<string> = new Set(['/health', '/readiness', '/metrics']);

/** ROLE=worker: probes and metrics; everything else is an API instance's to serve. */
function workerRoutesOnly(): Plugin {
  return {
    onRequest({ url, endResponse }) {
      if (WORKER_PATHS.has(url.pathname)) return;
      endResponse(
        new Response(JSON.stringify({ errors: [{ message: 'this instance is a worker (ROLE=worker): it serves /health, /readiness and /metrics only' }] }), {
          status: 404,
          headers: { 'content-type': 'application/json' },
        }),
      );
    },
  };
}
/**
 * Headers that mark a request as not "simple" (CSRF): a browser sends none of them cross-site
 * without a CORS preflight. `authorization` is one: a request carrying its own bearer token holds
 * no ambient credential a forged page could borrow, so integrators' GET queries, SSE over GET and
 * uploads need no extra header; a request relying on the session cookie still does. The last two
 * are what Apollo clients send.
 */
export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'authorization', 'apollo-require-preflight', 'x-apollo-operation-name'];
const URL_SECRET_SETTING = 'http.urlSecret';

/** Limits sized so the contract's queries (incl. the nested items query of issue 2) pass. */
export const queryLimits = {
  maxDepth: { n: 12 },
  maxAliases: { n: 30 },
  maxTokens: { n: 3000 },
  maxDirectives: { n: 30 },
  costLimit: { maxCost: 20_000 },
} as const;

export interface ServerOptions {
  log?: Logger;
  /** How long `stop()` waits for in-flight requests before cutting connections (default DRAIN_TIMEOUT_MS). */
  drainTimeoutMs?: number;
  /** GraphQL and HTTP spans (default: when an OTLP endpoint is configured; main.ts registers the exporter). */
  tracing?: boolean;
}

/** Generated once and shared by every instance on the same database (the first one to start wins). */
const urlSecret = (services: Pick<Services, 'store'>): Promise<string> => services.store.initSetting(URL_SECRET_SETTING, randomBytes(32).toString('base64url'));

const yogaLogger = (log: Logger): YogaLogger => {
  const emit =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) => {
      const [first, ...rest] = args;
      const l = currentLog(log);
      if (first instanceof Error) l[level]({ err: first, source: 'yoga' }, first.message);
      else l[level]({ source: 'yoga', args: rest.length ? rest : undefined }, String(first));
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
};

/** The job runner: BullMQ on Redis, shared by every instance, when REDIS_URL is set; else in this process. */
function createJobs(config: Config, log: Logger): JobRunner {
  const onError = (err: unknown, queue: string, id: string | null) => log.error({ err, queue, jobId: id }, 'job failed');
  return config.redisUrl
    ? createBullJobs({ url: config.redisUrl, prefix: config.redisPrefix, leaseMs: config.jobLeaseMs, onError })
    : createLocalJobs({ onError });
}

/** Per-address, per-client and per-socket budgets of graphql-ws (docs/security.md). */
const wsBudgets = ({ security: s }: Config) => ({
  maxConnectionsPerSource: s.wsMaxConnectionsPerSource,
  maxConnectionsPerClient: s.wsMaxConnectionsPerClient,
  maxSubscriptionsPerSocket: s.wsMaxSubscriptionsPerSocket,
  maxPingsPerMinute: s.wsMaxPingsPerMinute,
  maxSubscribesPerMinute: s.wsMaxSubscribesPerMinute,
});

/** The bounds of model imports (docs/security.md). */
const importBounds = ({ security: s }: Config) => ({
  importLimits: {
    ...defaultArchiveLimits,
    maxArchiveBytes: s.importMaxArchiveBytes,
    maxModelBytes: s.importMaxModelBytes,
    maxTotalBytes: s.importMaxUnpackedBytes,
    maxInputPixels: s.modelMaxInputPixels,
  },
  verifyBudget: { timeoutMs: s.modelVerifyTimeoutMs, memoryMb: s.modelVerifyMemoryMb },
});

/** Builds every engine (closing the ones already built when a later one fails). */
async function createServices(config: Config, log: Logger, obs: Observability): Promise<Services> {
  const built: { close(): Promise<void> }[] = [];
  const keep = <T extends { close(): Promise<void> }>(s: T) => {
    built.unshift(s);
    return s;
  };
  const { metrics } = obs;
  try {
    const opened = await createStore({
      dataDir: config.dataDir,
      databaseUrl: config.databaseUrl,
      sqliteSynchronous: config.sqliteSynchronous,
      s3: config.s3,
      blobCacheBytes: config.blobCacheBytes,
      // The periodic sweep job (workers) runs its first sweep at start; without one, the store does.
      sweepAtStart: config.role !== 'api' && config.blobSweepIntervalMs === 0,
      log,
    });
    const store = keep(obs.store(opened, opened.engine === 'postgres' ? 'postgresql' : 'sqlite'));
    // Rate-limit counters, shared through Redis when REDIS_URL is set (docs/security.md).
    const limits = keep(createRateLimits({ redisUrl: config.redisUrl, prefix: config.redisPrefix }));
    const auth = keep(await createAuth({ store, config, limits }));
    // After the store: closed before it, storing the events still pending.
    const audit = keep(createAuditService({ store, log }));
    const accounts = createAccounts({ store, auth, config });
    const urls = createUrlSigner({ secret: await urlSecret({ store }), ttlSeconds: config.signedUrlTtlSeconds });
    const license = createLicenseService({ store, config });
    const pubsub = keep(obs.pubsub(await createPubSub({ redisUrl: config.redisUrl, prefix: config.redisPrefix, log }), config.redisUrl ? 'redis' : 'memory'));
    const inference = keep(await createInferenceService({ store, pubsub, config, log, urls, metrics: metrics.inference }));
    const jobs = keep(createJobs(config, log));
    // ROLE=api queues jobs for the workers; worker and all run them.
    const runs = config.role !== 'api';
    const training = keep(await createTrainingService({ store, pubsub, config, log, jobs, runs, leaseMs: config.trainingLeaseMs, metrics: metrics.training }));
    const upstreams = keep(createUpstreams(config, { log }));
    const targets = createTargetsService({ store });
    const items = createItemsService({ store, targets, config, log });
    const models = keep(createModelsService({ store, targets, training, inference, log, pubsub, jobs, runs, ...importBounds(config) }));
    const predictions = keep(createPredictionsService({ store, items, inference, log, jobs, runs }));
    const sweeps = keep(scheduleSweeps({ jobs, store, runs, intervalMs: config.blobSweepIntervalMs, minAgeMs: config.blobSweepMinAgeMs, log }));
    // Results pushed to the line: one watcher of the engines' events feeds webhooks and MQTT.
    const events = keep(createIntegrationEvents({ pubsub, store, log }));
    const webhooks = keep(createWebhooksService({ store, events, jobs, config: config.integration, log }));
    const mqtt = createMqttPublisher({ config: config.integration, events, log });
    if (mqtt) keep(mqtt);
    await events.ready;
    return {
      config,
      log,
      store,
      auth,
      accounts,
      audit,
      limits,
      urls,
      license,
      pubsub,
      jobs,
      training,
      inference,
      upstreams,
      metrics,
      targets,
      items,
      models,
      predictions,
      sweeps,
      webhooks,
      mqtt,
    };
  } catch (err) {
    for (const s of built) await s.close().catch(() => undefined);
    throw err;
  }
}

export async function createServer(config: Config, opts: ServerOptions = {}) {
  const log = opts.log ?? createLogger(config.logLevel);
  // Read (and a bad file refused) before anything is opened.
  const { trustedDocuments: trustedMode, trustedDocumentsFile } = config.security;
  const trusted = trustedMode === 'off' ? null : loadTrustedDocuments(trustedMode, trustedDocumentsFile);
  const obs = createObservability(config, { tracing: opts.tracing });
  // One gateway per DATA_DIR with the embedded database (docs/security.md): a second is refused here.
  const dataDirLock = config.databaseUrl
    ? null
    : await lockDataDir(config.dataDir, (err) => log.error({ err, dataDir: config.dataDir }, 'DATA_DIR lock lost: another process may be using the directory'));
  let services: Services;
  try {
    services = await createServices(config, log, obs);
  } catch (err) {
    await dataDirLock?.release();
    throw err;
  }
  const { store, training, auth } = services;

  await store.syncAlgorithms([...training.algorithms]);
  await training.recover();
  await services.predictions.recover();
  await services.sweeps.start();
  // Deliveries a previous process left pending go out again (in order, after their backoff).
  await services.webhooks.resume();
  const bootstrapCredentials = await auth.bootstrap();
  // The first start of an empty installation also makes the first person (an admin) to sign in with.
  const bootstrapAdmin = await services.accounts.bootstrapAdmin();

  const { upload, security } = config;
  const subscriptions = openSubscriptions();
  const budgets = clientBudgets(services.limits, { operationsPerMinute: security.graphqlRatePerClient, uploadsPerMinute: security.uploadRatePerClient });
  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    // The headers tab shows where the token goes: the schema loads once it holds one (GRAPHQL_INTROSPECTION).
    graphiql: { title: 'Spectro GraphQL', headers: JSON.stringify({ authorization: 'Bearer <token from POST /api/auth/token>' }, null, 2) },
    // GraphiQL with its scripts, styles and editor workers inlined: no CDN, works offline.
    renderGraphiQL,
    landingPage: false,
    cors: corsOptions(security.corsOrigins),
    multipart: true,
    // Bodies are bounded by limitRequestBodies (from Content-Length when there is one).
    maxRequestBodySize: false,
    logging: yogaLogger(log),
    maskedErrors: maskedErrors(log),
    context: createContextFactory(services),
    plugins: [
      ...obs.plugins,
      securityHeaders(),
      requestLogging(log),
      ...(config.role === 'worker' ? [workerRoutesOnly()] : []),
      sessionCookies(),
      httpRoutes(services),
      restRoutes(services),
      useCSRFPrevention({ requestHeaders: CSRF_HEADERS }),
      uploadsNeedWriter(auth, budgets.upload),
      limitMultipartParts(upload),
      // After the parsers it bounds (it wraps them). Whole multipart bodies: every file at its
      // limit, plus room for the operations part.
      limitRequestBodies({ multipartBytes: Math.min(upload.maxFiles * upload.maxFileBytes, config.security.uploadMaxRequestBytes) + 1024 * 1024 }),
      ...trustedDocumentsPlugins(trusted),
      EnvelopArmorPlugin(queryLimits),
      introspection(security.introspection),
      budgets.plugin(),
      errorCodes(),
      auditMutations(),
      useSharedSubscriptionExecution(),
      subscriptions.plugin,
      ...graphqlJit(config.ops.graphqlJit, (errors) => log.error({ errors }, 'graphql-jit could not compile an operation')),
    ],
  });

  const httpServer = http.createServer(
    // Slow senders (issue 9, attack 12): headers within seconds, the whole request within a bound.
    {
      headersTimeout: security.httpHeadersTimeoutMs,
      requestTimeout: security.httpRequestTimeoutMs,
      // How often Node looks for connections past those bounds (its default, 30 s, would let a
      // slow sender keep a socket up to 30 s longer than the setting says).
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(security.httpHeadersTimeoutMs / 4))),
    },
    yoga,
  );
  drainRefusedBodies(httpServer);
  const ws = attachGraphqlWs({
    httpServer,
    yoga,
    services,
    trusted,
    onSlowConsumer: () => obs.metrics.subscriptions.slowConsumerCloses.inc({ reason: 'socket_buffer' }),
    ...wsBudgets(config),
  });

  // In-flight HTTP requests, so that stop() can wait for them.
  let active = 0;
  let drained: (() => void) | null = null;
  httpServer.on('request', (_req, res) => {
    active++;
    res.once('close', () => {
      active--;
      if (active === 0) drained?.();
    });
  });

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      log.info({ active }, 'stopping: draining in-flight requests');
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      // SSE responses last as long as their stream: complete them, or they hold the drain.
      await subscriptions.endAll();
      if (active > 0) {
        await Promise.race([
          new Promise<void>((resolve) => (drained = resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, opts.drainTimeoutMs ?? config.ops.drainTimeoutMs).unref()),
        ]);
      }
      httpServer.closeAllConnections();
      await ws.close();
      await closed;
      await obs.close();
      for (const [name, service] of [
        // Jobs first: running ones stop and are handed back (or left resumable) while their
        // engines still work; then the engines.
        ['jobs', services.jobs],
        ['sweeps', services.sweeps],
        ['training', services.training],
        ['predictions', services.predictions],
        ['models', services.models],
        ['webhooks', services.webhooks],
        ['mqtt', services.mqtt ?? { close: async () => {} }],
        ['inference', services.inference],
        ['pubsub', services.pubsub],
        ['upstreams', services.upstreams],
        ['auth', services.auth],
        ['limits', services.limits],
        ['store', services.store],
      ] as const) {
        try {
          await service.close();
        } catch (err) {
          log.error({ err, service: name }, 'closing failed');
        }
      }
      await dataDirLock?.release();
      log.info('stopped');
    })());

  const listen = () =>
    new Promise<{ url: string; port: number }>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen({ port: config.port, host: config.host, reusePort: config.reusePort }, () => {
        httpServer.off('error', reject);
        const { port, address } = httpServer.address() as AddressInfo;
        const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address;
        const url = `http://${host}:${port}`;
        log.info({ url: `${url}${GRAPHQL_PATH}` }, 'listening');
        // Everything else works without it; GET / says the same to whoever opens the page.
        if (!dashboardDir()) log.warn(NOT_BUILT);
        resolve({ url, port });
      });
    });
  const start = async () => {
    const metricsPort = await obs.listen(config.host);
    if (metricsPort !== null) log.info({ port: metricsPort }, 'metrics: serving /metrics on its own port');
    return { ...(await listen()), metricsPort };
  };

  return { start, stop, yoga, services, httpServer, bootstrapCredentials, bootstrapAdmin, ws, subscriptions, metrics: obs.metrics };
}

export type Server = Awaited<ReturnType<typeof createServer>>;
