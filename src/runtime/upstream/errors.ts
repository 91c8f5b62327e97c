import { AppError, ErrorCode } from '../../errors.ts';

/** Transport-level failure in words: "connect ECONNREFUSED 127.0.0.1:4100", "no response headers within 5000 ms". */
export function describeFailure(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: unknown };
  switch (e?.code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `could not connect within ${timeoutMs} ms`;
    case 'UND_ERR_HEADERS_TIMEOUT':
      return `no response within ${timeoutMs} ms`;
    case 'UND_ERR_BODY_TIMEOUT':
      return `response body stalled for ${timeoutMs} ms`;
    case 'UND_ERR_SOCKET':
      return `connection closed by the upstream (${e.message})`;
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return 'request aborted';
    default:
      break;
  }
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return 'request aborted';
  const message = e?.message || String(err);
  return e?.code && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}

/** The message an upstream put in its REST error body, if any. */
export function upstreamDetail(body: unknown): string | null {
  const errors = (body as { errors?: unknown } | null)?.errors;
  const first = Array.isArray(errors) ? errors[0] : errors;
  if (first && typeof first === 'object') {
    const { detail, title, message } = first as Record<string, unknown>;
    for (const v of [detail, message, title]) if (typeof v === 'string' && v) return v;
  }
  return null;
}

/** Maps an upstream's non-2xx answer to the contract's error codes, naming the upstream. */
export function errorForStatus(upstream: string, status: number, body: unknown): AppError {
  const detail = upstreamDetail(body) ?? `HTTP ${status}`;
  const msg = `upstream "${upstream}": ${detail}`;
  const extra = { upstream, upstreamStatus: status };
  if (status === 404) return new AppError(ErrorCode.NOT_FOUND, msg, extra);
  if (status === 400 || status === 422) return new AppError(ErrorCode.BAD_USER_INPUT, msg, extra);
  if (status === 409) return new AppError(ErrorCode.CONFLICT, msg, extra);
  if (status === 413) return new AppError(ErrorCode.PAYLOAD_TOO_LARGE, msg, extra);
  if (status === 415) return new AppError(ErrorCode.UNSUPPORTED_MEDIA, msg, extra);
  if (status === 429) return new AppError(ErrorCode.RATE_LIMITED, msg, extra);
  // 401/403 here means the gateway's own credentials for the upstream are wrong: not the caller's fault.
  if (status === 401 || status === 403) {
    return new AppError(ErrorCode.UNAVAILABLE, `upstream "${upstream}" refused the gateway's credentials (HTTP ${status}: ${detail})`, extra);
  }
  return new AppError(ErrorCode.UNAVAILABLE, `upstream "${upstream}" failed: ${detail}`, extra);
}

export const unavailable = (upstream: string, why: string) =>
  new AppError(ErrorCode.UNAVAILABLE, `upstream "${upstream}" is unavailable: ${why}`, { upstream });
