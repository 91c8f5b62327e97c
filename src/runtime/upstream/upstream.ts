import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/** Where an upstream stands, as the last calls (or the last probe) saw it. */
export interface UpstreamHealth {
  healthy: boolean;
  /** closed: calls flow; open: calls fail fast until the cool-down ends; half-open: one trial call. */
  circuit: 'closed' | 'open' | 'half-open';
  /** Why the last failed call failed, in words; null after a success. */
  lastError: string | null;
  /** When the last call (or probe) ended; null before any. */
  checkedAt: Date | null;
  /** Round trip of the last successful call. */
  latencyMs: number | null;
  consecutiveFailures: number;
}

export interface UpstreamRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  /** Path on the upstream, e.g. `/api/v1/targets/`. */
  path: string;
  query?: Record<string, string | number | boolean | readonly string[] | null | undefined>;
  /** Sent as application/json. */
  json?: unknown;
  /** Raw body (e.g. a proxied multipart stream); `headers` should then carry its content-type. */
  body?: Uint8Array | Readable | null;
  headers?: Record<string, string>;
  /** Overrides the method's default: only idempotent requests are retried. */
  idempotent?: boolean;
  signal?: AbortSignal;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** undici's body stream: read it (or `dump()` it) so the connection returns to the pool. */
  body: Dispatcher.ResponseData['body'];
}

/** One Spectro REST deployment behind the gateway. */
export interface UpstreamClient {
  readonly name: string;
  /** Base URL without credentials. */
  readonly url: string;
  health(): UpstreamHealth;
  /** Checks the upstream with a cheap authenticated call unless a call within `maxAgeMs` already did. */
  probe(maxAgeMs?: number): Promise<UpstreamHealth>;
  /**
   * Raw call with the gateway's token (fetched, cached, refreshed before expiry and once on 401).
   * Resolves with any HTTP status; rejects with AppError UNAVAILABLE when the upstream cannot be
   * reached, times out or the circuit is open.
   */
  request(req: UpstreamRequest): Promise<UpstreamResponse>;
  /** `request` + JSON body; non-2xx statuses become AppErrors (404 NOT_FOUND, 422 BAD_USER_INPUT, ...). */
  json<T = unknown>(req: UpstreamRequest): Promise<T>;
  close(): Promise<void>;
}

/** Every configured upstream; empty when UPSTREAMS is unset. */
export interface Upstreams {
  list(): UpstreamClient[];
  get(name: string): UpstreamClient | null;
  close(): Promise<void>;
}
