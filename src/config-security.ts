import { ConfigError } from './config.ts';

/**
 * Security controls (docs/security.md): every budget in one place, each with a default that is
 * safe without any setting. Read from the environment by loadSecurityConfig.
 */
export interface SecurityConfig {
  /** Token attempts per client id per window (TOKEN_RATE_PER_CLIENT); successful ones are given back. */
  tokenRatePerClient: number;
  /** Token attempts per source address per window (TOKEN_RATE_PER_SOURCE); successful ones are given back. */
  tokenRatePerSource: number;
  /** The token limits' window (TOKEN_RATE_WINDOW_SECONDS). */
  tokenRateWindowSeconds: number;
  /** Secret hashes waiting for the hashing thread before new ones get 429 (AUTH_HASH_QUEUE). */
  hashQueue: number;
  /** Threads that hash client secrets, apart from libuv's pool (AUTH_HASH_THREADS). */
  hashThreads: number;
  /** A model's check at import: wall-clock budget (MODEL_VERIFY_TIMEOUT_MS) and memory budget (MODEL_VERIFY_MEMORY_MB). */
  modelVerifyTimeoutMs: number;
  modelVerifyMemoryMb: number;
  /** Largest width x height a model may declare as its input (MODEL_MAX_INPUT_PIXELS). */
  modelMaxInputPixels: number;
  /** Model archive imports: the archive, one unpacked model.onnx, everything unpacked (IMPORT_MAX_*_BYTES). */
  importMaxArchiveBytes: number;
  importMaxModelBytes: number;
  importMaxUnpackedBytes: number;
  /** One prediction run's deadline (INFERENCE_RUN_TIMEOUT_MS; 0: none). */
  inferenceRunTimeoutMs: number;
  /** WebSocket budgets: sockets per source address and per client, operations per socket, pings per minute. */
  wsMaxConnectionsPerSource: number;
  wsMaxConnectionsPerClient: number;
  wsMaxSubscriptionsPerSocket: number;
  wsMaxPingsPerMinute: number;
  wsMaxSubscribesPerMinute: number;
  /** Largest multipart request, all files together (UPLOAD_MAX_REQUEST_BYTES). */
  uploadMaxRequestBytes: number;
  /** The JWT key before the current JWT_SECRET: still accepted until its tokens expire (JWT_PREVIOUS_SECRET). */
  jwtPreviousSecret: string | null;
  /** Tokens of an external issuer (JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE); null: none accepted. */
  jwksUrl: string | null;
  jwtIssuer: string | null;
  jwtAudience: string;
  /** Browser origins allowed to call the API (CORS_ORIGINS, comma-separated); none: same-origin only. */
  corsOrigins: string[];
  /** Schema introspection (GRAPHQL_INTROSPECTION): with a token (the default), for anyone, or off. */
  introspection: IntrospectionMode;
  /** Trusted documents (TRUSTED_DOCUMENTS: off, allow, enforce; default off) and the extra ones' file (TRUSTED_DOCUMENTS_FILE). */
  trustedDocuments: TrustedDocumentsMode;
  trustedDocumentsFile: string | null;
  /** A request's headers must arrive within HTTP_HEADERS_TIMEOUT_MS, the whole request within HTTP_REQUEST_TIMEOUT_MS (slow-body connections). */
  httpHeadersTimeoutMs: number;
  httpRequestTimeoutMs: number;
  /** GraphQL operations per client per minute (GRAPHQL_RATE_PER_CLIENT; 0: unlimited). */
  graphqlRatePerClient: number;
  /** Uploaded files per client per minute (UPLOAD_RATE_PER_CLIENT; 0: unlimited). */
  uploadRatePerClient: number;
}

const count = (env: NodeJS.ProcessEnv, name: string, d: number, min = 0): number => {
  const v = env[name];
  if (v === undefined || v === '') return d;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be a whole number >= ${min}, got "${v}"`);
  return n;
};

const url = (env: NodeJS.ProcessEnv, name: string): string | null => {
  const v = env[name]?.trim();
  if (!v) return null;
  if (!URL.canParse(v) || !/^https?:/.test(v)) throw new ConfigError(`${name} must be an http(s) URL, got "${v}"`);
  return v;
};

export type TrustedDocumentsMode = 'off' | 'allow' | 'enforce';
const TRUSTED_MODES: readonly TrustedDocumentsMode[] = ['off', 'allow', 'enforce'];

function trustedMode(env: NodeJS.ProcessEnv): TrustedDocumentsMode {
  const v = (env.TRUSTED_DOCUMENTS ?? '').trim().toLowerCase() || 'off';
  if (!(TRUSTED_MODES as readonly string[]).includes(v))
    throw new ConfigError(`TRUSTED_DOCUMENTS must be one of ${TRUSTED_MODES.join(', ')}, got "${env.TRUSTED_DOCUMENTS}"`);
  return v as TrustedDocumentsMode;
}

export function loadSecurityConfig(env: NodeJS.ProcessEnv): SecurityConfig {
  return {
    tokenRatePerClient: count(env, 'TOKEN_RATE_PER_CLIENT', 10, 1),
    tokenRatePerSource: count(env, 'TOKEN_RATE_PER_SOURCE', 30, 1),
    tokenRateWindowSeconds: count(env, 'TOKEN_RATE_WINDOW_SECONDS', 60, 1),
    hashQueue: count(env, 'AUTH_HASH_QUEUE', 8, 0),
    hashThreads: count(env, 'AUTH_HASH_THREADS', 1, 1),
    modelVerifyTimeoutMs: count(env, 'MODEL_VERIFY_TIMEOUT_MS', 20_000, 100),
    modelVerifyMemoryMb: count(env, 'MODEL_VERIFY_MEMORY_MB', 1024, 64),
    modelMaxInputPixels: count(env, 'MODEL_MAX_INPUT_PIXELS', 2048 * 2048, 1),
    importMaxArchiveBytes: count(env, 'IMPORT_MAX_ARCHIVE_BYTES', 512 * 1024 * 1024, 1),
    importMaxModelBytes: count(env, 'IMPORT_MAX_MODEL_BYTES', 256 * 1024 * 1024, 1),
    importMaxUnpackedBytes: count(env, 'IMPORT_MAX_UNPACKED_BYTES', 1024 * 1024 * 1024, 1),
    inferenceRunTimeoutMs: count(env, 'INFERENCE_RUN_TIMEOUT_MS', 30_000, 0),
    wsMaxConnectionsPerSource: count(env, 'WS_MAX_CONNECTIONS_PER_SOURCE', 50, 1),
    wsMaxConnectionsPerClient: count(env, 'WS_MAX_CONNECTIONS_PER_CLIENT', 20, 1),
    wsMaxSubscriptionsPerSocket: count(env, 'WS_MAX_SUBSCRIPTIONS_PER_SOCKET', 50, 1),
    wsMaxPingsPerMinute: count(env, 'WS_MAX_PINGS_PER_MINUTE', 60, 1),
    wsMaxSubscribesPerMinute: count(env, 'WS_MAX_SUBSCRIBES_PER_MINUTE', 600, 1),
    uploadMaxRequestBytes: count(env, 'UPLOAD_MAX_REQUEST_BYTES', 256 * 1024 * 1024, 1024),
    jwtPreviousSecret: env.JWT_PREVIOUS_SECRET || null,
    jwksUrl: url(env, 'JWT_JWKS_URL'),
    jwtIssuer: env.JWT_ISSUER || null,
    jwtAudience: env.JWT_AUDIENCE || 'spectro-gateway',
    corsOrigins: (env.CORS_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim().replace(/\/+$/, ''))
      .filter(Boolean),
    introspection: introspectionMode(env),
    trustedDocuments: trustedMode(env),
    trustedDocumentsFile: env.TRUSTED_DOCUMENTS_FILE?.trim() || null,
    httpHeadersTimeoutMs: count(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 1000),
    httpRequestTimeoutMs: count(env, 'HTTP_REQUEST_TIMEOUT_MS', 300_000, 1000),
    graphqlRatePerClient: count(env, 'GRAPHQL_RATE_PER_CLIENT', 0, 0),
    uploadRatePerClient: count(env, 'UPLOAD_RATE_PER_CLIENT', 0, 0),
  };
}

/** Secrets shorter than this, or made of one repeated character, are refused at start. */
export const MIN_SECRET_LENGTH = 16;

export const INTROSPECTION_MODES = ['token', 'on', 'off'] as const;
export type IntrospectionMode = (typeof INTROSPECTION_MODES)[number];

function introspectionMode(env: NodeJS.ProcessEnv): IntrospectionMode {
  const v = (env.GRAPHQL_INTROSPECTION ?? '').trim().toLowerCase();
  if (v === '') return 'token';
  if (['off', 'false', '0', 'no'].includes(v)) return 'off';
  if (['on', 'true', '1', 'yes'].includes(v)) return 'on';
  if (v === 'token') return 'token';
  throw new ConfigError(`GRAPHQL_INTROSPECTION must be one of ${INTROSPECTION_MODES.join(', ')}, got "${env.GRAPHQL_INTROSPECTION}"`);
}

/** Throws ConfigError naming `name` when `secret` is too weak to guard the gateway. */
export function requireStrongSecret(name: string, secret: string, min = MIN_SECRET_LENGTH): void {
  if (secret.length < min) throw new ConfigError(`${name} is ${secret.length} characters; at least ${min} random characters are required`);
  if (new Set(secret).size < 6) throw new ConfigError(`${name} is too easy to guess (it has fewer than 6 different characters); use a long random secret`);
}
