import os from 'node:os';
import path from 'node:path';
import type { S3Options } from './runtime/store/index.ts';
import { loadSecurityConfig, type SecurityConfig } from './config-security.ts';

/** Everything the gateway reads from the environment, with defaults that need nothing. */
export interface Config {
  port: number;
  host: string;
  /**
   * Several gateway processes listen on the same PORT (REUSE_PORT, Linux SO_REUSEPORT): the kernel
   * spreads new connections over them, so HTTP and GraphQL work is not one event loop's.
   */
  reusePort: boolean;
  dataDir: string;
  /** `postgres://…`: records on PostgreSQL; null (unset): the embedded SQLite file under dataDir. */
  databaseUrl: string | null;
  /** SQLITE_SYNCHRONOUS: `full` fsyncs every commit (survives power loss), `normal` at checkpoints only (survives a process crash). */
  sqliteSynchronous: 'full' | 'normal';
  /** Pictures, model files and exports in an S3-compatible bucket (S3_BUCKET set); null: files under dataDir. */
  s3: S3Options | null;
  /** Signed file links answer a redirect to a presigned object-storage URL (S3_PRESIGNED_DOWNLOADS). */
  presignedDownloads: boolean;
  /** Bound of the local copy of blobs kept in object storage (BLOB_CACHE_BYTES). */
  blobCacheBytes: number;
  /** How often unreferenced blobs are swept (BLOB_SWEEP_INTERVAL_MS; 0: only at start). */
  blobSweepIntervalMs: number;
  /** Unreferenced blobs younger than this are spared (BLOB_SWEEP_MIN_AGE_MS): downloads without a row. */
  blobSweepMinAgeMs: number;
  /** `api` serves HTTP/WebSocket and queues jobs, `worker` runs them, `all` both (ROLE). */
  role: Role;
  /** A job's lock on its worker (JOB_LEASE_MS): a job whose worker died runs again elsewhere within about twice this (REDIS_URL). */
  jobLeaseMs: number;
  logLevel: string;
  /** Bootstrap client; generated (and printed once) on first start when unset. */
  clientId: string | null;
  clientSecret: string | null;
  /** JWT signing secret; generated once and persisted in the store when unset. */
  jwtSecret: string | null;
  tokenTtlSeconds: number;
  /** How long a dashboard session lasts without use (SESSION_TTL: seconds, or 12h / 7d); each use slides it. */
  sessionTtlSeconds: number;
  /** Lifetime of the access tokens a session hands its page (SESSION_TOKEN_TTL_SECONDS); short, as the page renews them. */
  sessionTokenTtlSeconds: number;
  /** Name and password of the admin the first start creates (ADMIN_NAME, ADMIN_PASSWORD); a random password is printed once when unset. */
  adminName: string;
  /** OpenID Connect single sign-on for the dashboard (OIDC_ISSUER, OIDC_CLIENT_ID…); null: passwords only. */
  oidc: OidcConfig | null;
  /** scrypt cost of password hashes as log2(N) (PASSWORD_SCRYPT_LOG2_N, 14..20; 17 = 128 MiB per hash). */
  passwordScryptLog2N: number;
  adminPassword: string | null;
  /** Origin the gateway is reached at from outside (image and download URLs); default: the request's. */
  publicUrl: string | null;
  signedUrlTtlSeconds: number;
  redisUrl: string | null;
  /** Namespace of this deployment's Redis channels, for deployments sharing one Redis. */
  redisPrefix: string;
  /** 'cpu' | 'cuda' | 'auto' (cuda when its provider loads, else cpu). */
  executionProvider: 'cpu' | 'cuda' | 'auto';
  maxBatchSize: number;
  maxQueueDelayMs: number;
  /** Dynamic micro-batching of concurrent predictions (BATCHING=off runs each on its own). */
  batching: boolean;
  /** Time each model at batch 1, 2, 4… on load and cap its batches at the fastest (BATCH_CALIBRATION=off: always maxBatchSize). */
  batchCalibration: boolean;
  /** Memory bound of the cached onnxruntime sessions, by model file size. */
  sessionCacheBytes: number;
  /** Threads decoding pictures (DECODE_THREADS; default: the machine's cores). */
  decodeThreads: number;
  /** DECODE_INLINE (default on): a lone whole picture is decoded on the pipeline worker when the decode pool is idle (two thread hops fewer). */
  decodeInline: boolean;
  /**
   * INFERENCE_SOCKET (unset: none): run the models in the shared inference process listening on
   * this Unix socket (`npm run inference`), not on a session thread of this process.
   */
  inferenceSocket: string | null;
  /**
   * Admission of synchronous predictions per model: pictures admitted at once (PREDICT_QUEUE_DEPTH;
   * more are refused UNAVAILABLE / 429) and the longest a picture may wait for its turn
   * (PREDICT_QUEUE_DEADLINE_MS; later ones are refused the same way).
   */
  predictQueueDepth: number;
  predictQueueDeadlineMs: number;
  trainingConcurrency: number;
  /** A job of an instance that died is taken over after at most twice this (TRAINING_LEASE_MS). */
  trainingLeaseMs: number;
  upload: { maxFileBytes: number; maxFiles: number; maxPixels: number };
  /** Ed25519 public key (PEM text, or a path to a PEM file) that license files must be signed with; default: the vendor key in src/runtime/license/vendor-public-key.pem. */
  licensePublicKey: string | null;
  /** Other Spectro REST deployments proxied under /upstream/<name>/…: name=url,name=url */
  upstreams: Record<string, string>;
  /** Client credentials per upstream: UPSTREAM_<NAME>_CLIENT_ID / UPSTREAM_<NAME>_CLIENT_SECRET. */
  upstreamCredentials: Record<string, { clientId: string; clientSecret: string }>;
  /** Per-attempt deadline for calls to an upstream (UPSTREAM_TIMEOUT_MS). */
  upstreamTimeoutMs: number;
  /** Shutdown, metrics, traces and readiness (README "Operations"). */
  ops: OpsConfig;
  /** Results pushed to the line: webhooks and MQTT (docs/integration.md). */
  integration: IntegrationConfig;
  /** Rate limits, budgets and caps (docs/security.md). */
  security: SecurityConfig;
}

export interface IntegrationConfig {
  /** WEBHOOK_ALLOWED_HOSTS: host names, IPs, CIDRs and `public` that webhook URLs may reach (default: `public` only). */
  webhookAllowedHosts: string[];
  /** WEBHOOK_TIMEOUT_MS: one attempt's deadline (connect, answer). */
  webhookTimeoutMs: number;
  /** WEBHOOK_RETRY_BASE_MS: the first retry's delay; doubling (with jitter) up to WEBHOOK_RETRY_MAX_DELAY_MS. */
  webhookRetryBaseMs: number;
  webhookRetryMaxDelayMs: number;
  /** WEBHOOK_GIVE_UP_AFTER_MS: a delivery still failing this long after the event ends FAILED. */
  webhookGiveUpAfterMs: number;
  /** MQTT_URL: the broker results are published to; null: no MQTT. */
  mqttUrl: string | null;
  /** MQTT_TOPIC_PREFIX: first topic level (`spectro/<target>/results`). */
  mqttTopicPrefix: string;
  /** MQTT_BACKLOG: messages kept while the broker is away; older ones are dropped beyond it. */
  mqttBacklog: number;
}

export interface OpsConfig {
  /** How long a shutdown waits for in-flight requests before cutting connections (DRAIN_TIMEOUT_MS). */
  drainTimeoutMs: number;
  /** Serve /metrics on this port only (METRICS_PORT); null: on the main port. */
  metricsPort: number | null;
  /** Bearer token that /metrics requires (METRICS_TOKEN); null: none. */
  metricsToken: string | null;
  /** OTLP endpoint for traces (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT); null: no tracing. */
  otlpEndpoint: string | null;
  /** Each /readiness check fails after this long (READINESS_TIMEOUT_MS): a frozen dependency reads as down. */
  readinessTimeoutMs: number;
  /** /readiness fails when DATA_DIR's file system has less free space (MIN_FREE_DISK_BYTES). */
  minFreeDiskBytes: number;
  /** Queries and mutations compiled by graphql-jit (GRAPHQL_JIT, default on; src/http/graphql-jit.ts). */
  graphqlJit: boolean;
}

export const ROLES = ['api', 'worker', 'all'] as const;
export type Role = (typeof ROLES)[number];

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string | null;
  scopes: string;
  nameClaim: string;
  roleClaim: string | null;
  /** The role of a person's account made at their first single sign-on, when no role claim says otherwise. */
  defaultRole: string;
  /** The label of the dashboard's button. */
  label: string;
}

/** A bad setting stops the start with a message naming it, rather than running half-configured. */
export class ConfigError extends Error {}

const int = (v: string | undefined, d: number, name = 'a numeric setting') => {
  if (v === undefined || v === '') return d;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name} must be a whole number >= 0, got "${v}"`);
  return n;
};

const range = (n: number, lo: number, hi: number, name: string) => {
  if (n < lo || n > hi) throw new ConfigError(`${name} must be between ${lo} and ${hi}, got ${n}`);
  return n;
};

/** Seconds, or a number with a unit: 90s, 30m, 12h, 7d. */
const duration = (v: string | undefined, d: number, name: string) => {
  if (v === undefined || v === '') return d;
  const m = /^(\d+)\s*([smhd]?)$/i.exec(v.trim());
  if (!m || Number(m[1]) <= 0) throw new ConfigError(`${name} must be a duration such as 3600, 12h or 7d, got "${v}"`);
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2]!.toLowerCase() as '' | 's' | 'm' | 'h' | 'd'];
};

const flag = (v: string | undefined, d: boolean) => (v === undefined || v === '' ? d : ['1', 'true', 'yes', 'on'].includes(v.toLowerCase()));

const oneOf = <T extends string>(v: string | undefined, allowed: readonly T[], d: T, name: string): T => {
  if (v === undefined || v === '') return d;
  if (!(allowed as readonly string[]).includes(v)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: int(env.PORT, 4000, 'PORT'),
    host: env.HOST ?? '0.0.0.0',
    reusePort: flag(env.REUSE_PORT, false),
    dataDir: path.resolve(env.DATA_DIR ?? './data'),
    databaseUrl: databaseUrl(env.DATABASE_URL),
    sqliteSynchronous: oneOf((env.SQLITE_SYNCHRONOUS ?? '').toLowerCase(), ['full', 'normal'] as const, 'full', 'SQLITE_SYNCHRONOUS'),
    s3: s3Options(env),
    presignedDownloads: !!env.S3_BUCKET && flag(env.S3_PRESIGNED_DOWNLOADS, false),
    blobCacheBytes: int(env.BLOB_CACHE_BYTES, 1024 ** 3, 'BLOB_CACHE_BYTES'),
    blobSweepIntervalMs: int(env.BLOB_SWEEP_INTERVAL_MS, 15 * 60_000, 'BLOB_SWEEP_INTERVAL_MS'),
    blobSweepMinAgeMs: int(env.BLOB_SWEEP_MIN_AGE_MS, 60 * 60_000, 'BLOB_SWEEP_MIN_AGE_MS'),
    role: role(env),
    jobLeaseMs: Math.max(1000, int(env.JOB_LEASE_MS, 30_000, 'JOB_LEASE_MS')),
    logLevel: env.LOG_LEVEL ?? 'info',
    clientId: env.SPECTRO_CLIENT_ID ?? null,
    clientSecret: env.SPECTRO_CLIENT_SECRET ?? null,
    jwtSecret: env.JWT_SECRET ?? null,
    tokenTtlSeconds: int(env.TOKEN_TTL_SECONDS, 3600, 'TOKEN_TTL_SECONDS'),
    sessionTtlSeconds: duration(env.SESSION_TTL, 7 * 86_400, 'SESSION_TTL'),
    sessionTokenTtlSeconds: Math.max(10, int(env.SESSION_TOKEN_TTL_SECONDS, 600, 'SESSION_TOKEN_TTL_SECONDS')),
    adminName: env.ADMIN_NAME || 'admin',
    oidc: oidcConfig(env),
    passwordScryptLog2N: range(int(env.PASSWORD_SCRYPT_LOG2_N, 17, 'PASSWORD_SCRYPT_LOG2_N'), 14, 20, 'PASSWORD_SCRYPT_LOG2_N'),
    adminPassword: env.ADMIN_PASSWORD || null,
    publicUrl: env.PUBLIC_URL ?? null,
    signedUrlTtlSeconds: int(env.SIGNED_URL_TTL_SECONDS, 3600, 'SIGNED_URL_TTL_SECONDS'),
    redisUrl: env.REDIS_URL || null,
    redisPrefix: env.REDIS_PREFIX || 'spectro:',
    executionProvider: oneOf(env.EXECUTION_PROVIDER, ['cpu', 'cuda', 'auto'] as const, 'auto', 'EXECUTION_PROVIDER'),
    maxBatchSize: int(env.MAX_BATCH_SIZE, 16, 'MAX_BATCH_SIZE'),
    maxQueueDelayMs: int(env.MAX_QUEUE_DELAY_MS, 2, 'MAX_QUEUE_DELAY_MS'),
    batching: !['off', 'false', '0', 'no'].includes((env.BATCHING ?? '').toLowerCase()),
    batchCalibration: !['off', 'false', '0', 'no'].includes((env.BATCH_CALIBRATION ?? '').toLowerCase()),
    sessionCacheBytes: int(env.SESSION_CACHE_BYTES, 1024 * 1024 * 1024, 'SESSION_CACHE_BYTES'),
    decodeThreads: Math.max(1, int(env.DECODE_THREADS, os.availableParallelism(), 'DECODE_THREADS')),
    decodeInline: flag(env.DECODE_INLINE, true),
    inferenceSocket: env.INFERENCE_SOCKET?.trim() || null,
    predictQueueDepth: Math.max(1, int(env.PREDICT_QUEUE_DEPTH, 256, 'PREDICT_QUEUE_DEPTH')),
    predictQueueDeadlineMs: Math.max(1, int(env.PREDICT_QUEUE_DEADLINE_MS, 10_000, 'PREDICT_QUEUE_DEADLINE_MS')),
    trainingConcurrency: int(env.TRAINING_CONCURRENCY, 1, 'TRAINING_CONCURRENCY'),
    trainingLeaseMs: int(env.TRAINING_LEASE_MS, 30_000, 'TRAINING_LEASE_MS'),
    upload: {
      maxFileBytes: int(env.UPLOAD_MAX_FILE_BYTES, 20 * 1024 * 1024, 'UPLOAD_MAX_FILE_BYTES'),
      maxFiles: int(env.UPLOAD_MAX_FILES, 100, 'UPLOAD_MAX_FILES'),
      maxPixels: int(env.UPLOAD_MAX_PIXELS, 40_000_000, 'UPLOAD_MAX_PIXELS'),
    },
    licensePublicKey: env.LICENSE_PUBLIC_KEY || null,
    upstreams: Object.fromEntries(
      (env.UPSTREAMS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => {
          const i = s.indexOf('=');
          return [s.slice(0, i), s.slice(i + 1)] as const;
        }),
    ),
    upstreamCredentials: upstreamCredentials(env),
    upstreamTimeoutMs: int(env.UPSTREAM_TIMEOUT_MS, 5000, 'UPSTREAM_TIMEOUT_MS'),
    ops: loadOpsConfig(env),
    integration: loadIntegrationConfig(env),
    security: loadSecurityConfig(env),
  };
}

function oidcConfig(env: NodeJS.ProcessEnv): OidcConfig | null {
  const issuer = env.OIDC_ISSUER?.trim();
  if (!issuer) return null;
  if (!/^https?:\/\//.test(issuer) || !URL.canParse(issuer)) throw new ConfigError(`OIDC_ISSUER must be an http(s) URL, got "${issuer}"`);
  if (!env.OIDC_CLIENT_ID) throw new ConfigError('OIDC_CLIENT_ID is required with OIDC_ISSUER');
  const defaultRole = env.OIDC_DEFAULT_ROLE || 'viewer';
  if (!['viewer', 'operator', 'engineer', 'admin'].includes(defaultRole))
    throw new ConfigError(`OIDC_DEFAULT_ROLE must be viewer, operator, engineer or admin, got "${defaultRole}"`);
  return {
    issuer,
    clientId: env.OIDC_CLIENT_ID,
    clientSecret: env.OIDC_CLIENT_SECRET || null,
    scopes: env.OIDC_SCOPES || 'openid profile email',
    nameClaim: env.OIDC_NAME_CLAIM || 'preferred_username',
    roleClaim: env.OIDC_ROLE_CLAIM || null,
    defaultRole,
    label: env.OIDC_LABEL || 'single sign-on',
  };
}

function loadIntegrationConfig(env: NodeJS.ProcessEnv): IntegrationConfig {
  const mqttUrl = env.MQTT_URL?.trim() || null;
  if (mqttUrl && !/^(mqtts?|wss?|tcp|ssl):\/\//i.test(mqttUrl))
    throw new ConfigError(`MQTT_URL must be an mqtt://, mqtts://, ws:// or wss:// URL, got "${mqttUrl}"`);
  const hosts = (env.WEBHOOK_ALLOWED_HOSTS ?? 'public')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  return {
    webhookAllowedHosts: hosts.length > 0 ? hosts : ['public'],
    webhookTimeoutMs: int(env.WEBHOOK_TIMEOUT_MS, 10_000, 'WEBHOOK_TIMEOUT_MS'),
    webhookRetryBaseMs: int(env.WEBHOOK_RETRY_BASE_MS, 1000, 'WEBHOOK_RETRY_BASE_MS'),
    webhookRetryMaxDelayMs: int(env.WEBHOOK_RETRY_MAX_DELAY_MS, 3_600_000, 'WEBHOOK_RETRY_MAX_DELAY_MS'),
    webhookGiveUpAfterMs: int(env.WEBHOOK_GIVE_UP_AFTER_MS, 25 * 3_600_000, 'WEBHOOK_GIVE_UP_AFTER_MS'),
    mqttUrl,
    mqttTopicPrefix: (env.MQTT_TOPIC_PREFIX ?? 'spectro').replace(/\/+$/, ''),
    mqttBacklog: int(env.MQTT_BACKLOG, 10_000, 'MQTT_BACKLOG'),
  };
}

function loadOpsConfig(env: NodeJS.ProcessEnv): OpsConfig {
  const metricsPort = env.METRICS_PORT ? int(env.METRICS_PORT, 0, 'METRICS_PORT') : null;
  const tracesOff = ['true', '1'].includes((env.OTEL_SDK_DISABLED ?? '').toLowerCase()) || env.OTEL_TRACES_EXPORTER === 'none';
  const otlpEndpoint = tracesOff ? null : env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || null;
  if (otlpEndpoint && !URL.canParse(otlpEndpoint)) throw new ConfigError(`OTEL_EXPORTER_OTLP_ENDPOINT must be a URL, got "${otlpEndpoint}"`);
  return {
    drainTimeoutMs: int(env.DRAIN_TIMEOUT_MS, 10_000, 'DRAIN_TIMEOUT_MS'),
    metricsPort,
    metricsToken: env.METRICS_TOKEN || null,
    otlpEndpoint,
    readinessTimeoutMs: int(env.READINESS_TIMEOUT_MS, 2000, 'READINESS_TIMEOUT_MS'),
    minFreeDiskBytes: int(env.MIN_FREE_DISK_BYTES, 256 * 1024 * 1024, 'MIN_FREE_DISK_BYTES'),
    graphqlJit: oneOf((env.GRAPHQL_JIT ?? '').toLowerCase(), ['on', 'off'] as const, 'on', 'GRAPHQL_JIT') === 'on',
  };
}

function role(env: NodeJS.ProcessEnv): Role {
  const r = oneOf(env.ROLE, ROLES, 'all', 'ROLE');
  // Without a shared queue an API instance's jobs would never run, and a worker would get none.
  if (r !== 'all' && !env.REDIS_URL)
    throw new ConfigError(`ROLE=${r} needs REDIS_URL (the job queue the roles share); unset ROLE runs everything in one process`);
  return r;
}

function s3Options(env: NodeJS.ProcessEnv): S3Options | null {
  const bucket = env.S3_BUCKET?.trim();
  if (!bucket) {
    const stray = ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].find((k) => env[k]);
    if (stray) throw new ConfigError(`${stray} is set but S3_BUCKET is not: set S3_BUCKET to keep the blobs in object storage, or unset ${stray}`);
    return null;
  }
  const endpoint = env.S3_ENDPOINT?.trim() || null;
  if (endpoint && !URL.canParse(endpoint)) throw new ConfigError(`S3_ENDPOINT must be a URL, got "${endpoint}"`);
  const accessKeyId = env.S3_ACCESS_KEY_ID || null;
  const secretAccessKey = env.S3_SECRET_ACCESS_KEY || null;
  if (!accessKeyId !== !secretAccessKey)
    throw new ConfigError('set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither (the SDK then finds credentials itself)');
  return {
    bucket,
    endpoint,
    region: env.S3_REGION || 'us-east-1',
    accessKeyId,
    secretAccessKey,
    // Self-hosted servers (MinIO, Ceph, s3rver) rarely resolve <bucket>.<host>: path style whenever an endpoint is given.
    forcePathStyle: flag(env.S3_FORCE_PATH_STYLE, endpoint !== null),
  };
}

function databaseUrl(v: string | undefined): string | null {
  if (v === undefined || v.trim() === '') return null;
  if (!/^postgres(ql)?:\/\//i.test(v.trim())) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL (leave it unset for the embedded SQLite database)');
  }
  return v.trim();
}

/** Env key of an upstream name: `eu-line` -> `EU_LINE` (UPSTREAM_EU_LINE_CLIENT_ID). */
export const upstreamEnvKey = (name: string) => name.toUpperCase().replace(/[^A-Z0-9]/g, '_');

function upstreamCredentials(env: NodeJS.ProcessEnv): Config['upstreamCredentials'] {
  const out: Config['upstreamCredentials'] = {};
  for (const entry of (env.UPSTREAMS ?? '').split(',')) {
    const name = entry.trim().split('=')[0] ?? '';
    const key = upstreamEnvKey(name);
    const clientId = env[`UPSTREAM_${key}_CLIENT_ID`];
    const clientSecret = env[`UPSTREAM_${key}_CLIENT_SECRET`];
    if (name && clientId && clientSecret) out[name] = { clientId, clientSecret };
  }
  return out;
}
