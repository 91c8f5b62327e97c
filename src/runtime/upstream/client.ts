import { setTimeout as sleep } from 'node:timers/promises';
import { Readable } from 'node:stream';
import { Pool } from 'undici';
import { AppError, ErrorCode } from '../../errors.ts';
import { Circuit } from './circuit.ts';
import { describeFailure, errorForStatus, unavailable } from './errors.ts';
import { TokenCache, tokenFromResponse, type IssuedToken } from './token-cache.ts';
import type { UpstreamClient, UpstreamHealth, UpstreamRequest, UpstreamResponse } from './upstream.ts';

export interface UpstreamClientOptions {
  name: string;
  /** Base URL; credentials may ride in it (`http://id:secret@host:port`). */
  url: string;
  credentials?: { clientId: string; clientSecret: string } | null;
  /** Deadline per attempt for connecting, for the response headers and between body chunks. */
  timeoutMs?: number;
  /** Extra attempts for idempotent requests after a transport failure or a 502/503/504. */
  retries?: number;
  /** First backoff; doubles per attempt, with jitter. */
  backoffMs?: number;
  connections?: number;
  circuit?: { threshold?: number; coolDownMs?: number };
  /** Largest JSON answer `json()` reads. */
  maxJsonBytes?: number;
  log?: { warn(obj: object, msg: string): void };
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
const RETRY_STATUSES = new Set([502, 503, 504]);

/** A client for one Spectro REST deployment: pooled keep-alive connections, token, retries, circuit. */
export function createUpstreamClient(opts: UpstreamClientOptions): UpstreamClient {
  const parsed = new URL(opts.url);
  const credentials =
    opts.credentials ?? (parsed.username ? { clientId: decodeURIComponent(parsed.username), clientSecret: decodeURIComponent(parsed.password) } : null);
  parsed.username = '';
  parsed.password = '';
  const basePath = parsed.pathname.replace(/\/+$/, '');
  const url = `${parsed.origin}${basePath}`;
  const name = opts.name;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const retries = opts.retries ?? 2;
  const backoffMs = opts.backoffMs ?? 100;
  const maxJsonBytes = opts.maxJsonBytes ?? 32 * 1024 * 1024;

  const pool = new Pool(parsed.origin, {
    connections: opts.connections ?? 8,
    connectTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 10_000,
  });
  const circuit = new Circuit(opts.circuit?.threshold ?? 3, opts.circuit?.coolDownMs ?? 10_000);
  let lastError: string | null = null;
  let checkedAt: Date | null = null;
  let latencyMs: number | null = null;
  let probing: Promise<UpstreamHealth> | null = null;

  const health = (): UpstreamHealth => ({
    healthy: checkedAt !== null && lastError === null && circuit.state === 'closed',
    circuit: circuit.state,
    lastError,
    checkedAt,
    latencyMs,
    consecutiveFailures: circuit.consecutiveFailures,
  });

  const recordFailure = (why: string) => {
    circuit.failure();
    lastError = why;
    checkedAt = new Date();
  };
  const recordSuccess = (startedAt: number) => {
    circuit.success();
    lastError = null;
    checkedAt = new Date();
    latencyMs = Date.now() - startedAt;
  };

  const pathWithQuery = (req: UpstreamRequest) => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(req.query ?? {})) {
      if (value === null || value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) search.append(key, String(v));
      else search.append(key, String(value));
    }
    const qs = search.toString();
    return `${basePath}${req.path}${qs ? `?${qs}` : ''}`;
  };

  /**
   * One exchange with retries and the circuit; `authorization` is read per attempt so a retry
   * after a token refresh uses the new one.
   */
  async function exchange(req: UpstreamRequest, authorization: () => Promise<string | null>): Promise<UpstreamResponse> {
    const streamBody = req.body instanceof Readable;
    const idempotent = (req.idempotent ?? IDEMPOTENT.has(req.method)) && !streamBody;
    const attempts = idempotent ? retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      // Before the circuit: the token call passes through the circuit itself.
      const auth = await authorization();
      if (!circuit.tryAcquire()) {
        const wait = Math.ceil(circuit.retryInMs() / 1000);
        throw unavailable(name, `${lastError ?? 'repeated failures'} (circuit open, next try in ${wait} s)`);
      }
      const startedAt = Date.now();
      let failure: string;
      try {
        const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
        if (auth) headers.authorization = auth;
        let body: string | Uint8Array | Readable | null = req.body ?? null;
        if (req.json !== undefined) {
          body = JSON.stringify(req.json);
          headers['content-type'] = 'application/json';
        }
        const res = await pool.request({
          origin: parsed.origin,
          path: pathWithQuery(req),
          method: req.method,
          headers,
          body,
          signal: req.signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        if (!RETRY_STATUSES.has(res.statusCode) && res.statusCode < 500) {
          recordSuccess(startedAt);
          return { status: res.statusCode, headers: res.headers, body: res.body };
        }
        failure = `HTTP ${res.statusCode}`;
        if (attempt >= attempts) {
          recordFailure(failure);
          return { status: res.statusCode, headers: res.headers, body: res.body };
        }
        await res.body.dump();
      } catch (err) {
        failure = describeFailure(err, timeoutMs);
        if (req.signal?.aborted || attempt >= attempts) {
          recordFailure(failure);
          const tries = attempts > 1 ? ` (after ${attempt} attempts)` : '';
          throw unavailable(name, `${failure}${tries}`);
        }
      }
      recordFailure(failure);
      opts.log?.warn({ upstream: name, attempt, failure }, 'upstream call failed; retrying');
      const delay = backoffMs * 2 ** (attempt - 1);
      await sleep(delay / 2 + Math.random() * delay, undefined, { signal: req.signal }).catch(() => undefined);
    }
  }

  const tokens = new TokenCache(async (): Promise<IssuedToken> => {
    if (!credentials) throw new Error('no credentials');
    const res = await exchange(
      {
        method: 'POST',
        path: '/api/auth/token',
        json: { grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: credentials.clientSecret },
        idempotent: true, // issuing a token twice is harmless
      },
      async () => null,
    );
    const body = await readJson(res, maxJsonBytes).catch(() => null);
    if (res.status !== 200) throw errorForStatus(name, res.status, body);
    try {
      return tokenFromResponse((body ?? {}) as Record<string, unknown>);
    } catch (err) {
      throw unavailable(name, `token endpoint answered without a usable token (${(err as Error).message})`);
    }
  });

  async function request(req: UpstreamRequest): Promise<UpstreamResponse> {
    let sent: string | null = null;
    const authorization = async () => {
      if (!credentials) return null;
      sent = await tokens.get();
      return `Bearer ${sent}`;
    };
    const res = await exchange(req, authorization);
    if (res.status !== 401 || !credentials || req.body instanceof Readable) return res;
    // The upstream no longer accepts our token (restarted with a new key, revoked): fetch a new one once.
    await res.body.dump();
    if (sent) tokens.invalidate(sent);
    return exchange(req, authorization);
  }

  async function json<T>(req: UpstreamRequest): Promise<T> {
    const res = await request(req);
    const body = await readJson(res, maxJsonBytes).catch((err: Error) => {
      throw unavailable(name, `unreadable answer (${err.message})`);
    });
    if (res.status === 401 && !credentials) {
      const key = name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
      throw unavailable(name, `it wants a token and no credentials are configured (UPSTREAM_${key}_CLIENT_ID / _CLIENT_SECRET)`);
    }
    if (res.status < 200 || res.status > 299) throw errorForStatus(name, res.status, body);
    return body as T;
  }

  async function probe(maxAgeMs = 5000): Promise<UpstreamHealth> {
    if (checkedAt && Date.now() - checkedAt.getTime() < maxAgeMs) return health();
    if (circuit.state === 'open') return health();
    probing ??= json({ method: 'GET', path: '/api/v1/targets/' })
      .then(
        () => undefined,
        (err: Error) => {
          // Transport failures are recorded by exchange; an error answer (bad credentials) is recorded here.
          lastError = err.message.replace(`upstream "${name}" is unavailable: `, '');
          checkedAt = new Date();
        },
      )
      .then(health)
      .finally(() => {
        probing = null;
      });
    return probing;
  }

  return {
    name,
    url,
    health,
    probe,
    request,
    json,
    close: () => pool.close(),
  };
}

/** Reads a JSON body, refusing more than `max` bytes; empty bodies read as null. */
async function readJson(res: UpstreamResponse, max: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > max) {
      res.body.destroy();
      throw new AppError(ErrorCode.UNAVAILABLE, `answer larger than ${max} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { errors: { detail: text.slice(0, 200) } };
  }
}
