import { createHmac } from 'node:crypto';
import { Agent, request } from 'undici';
import type { WebhookDeliveryRecord, WebhookRecord } from '../store/types.ts';
import type { UrlPolicy } from './url-policy.ts';

/** Redirects followed per attempt, each checked against the policy like the first URL. */
const MAX_REDIRECTS = 3;
/** Response bytes kept for the delivery record (the error text of a failed attempt). */
const KEEP_BYTES = 512;

export const SIGNATURE_HEADER = 'x-spectro-signature';

/** `sha256=<hex HMAC-SHA256 of the raw body>`, keyed with the webhook's secret. */
export const signature = (secret: string, body: string | Buffer) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/**
 * The body of one attempt: the event data in an envelope that carries the delivery id, the event
 * and the attempt's time, so the signature (over the raw body) also covers the timestamp and a
 * receiver can refuse a replayed old delivery.
 */
export function envelope(delivery: WebhookDeliveryRecord, timestamp: number): string {
  return `{"id":${JSON.stringify(delivery.id)},"event":${JSON.stringify(delivery.event)},"timestamp":${timestamp},"data":${delivery.payload}}`;
}

export interface AttemptResult {
  ok: boolean;
  status: number | null;
  latencyMs: number;
  error: string | null;
}

export interface Sender {
  send(webhook: WebhookRecord, delivery: WebhookDeliveryRecord, signal?: AbortSignal): Promise<AttemptResult>;
  close(): Promise<void>;
}

export function createSender({ policy, timeoutMs, userAgent }: { policy: UrlPolicy; timeoutMs: number; userAgent: string }): Sender {
  // Every connection resolves its host through the policy: a name that now points inside is refused.
  const agent = new Agent({ connect: { lookup: policy.lookup, timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });

  return {
    async send(webhook, delivery, signal) {
      const timestamp = Math.floor(Date.now() / 1000);
      const body = envelope(delivery, timestamp);
      const headers = {
        'content-type': 'application/json',
        'user-agent': userAgent,
        'x-spectro-event': delivery.event,
        'x-spectro-delivery': delivery.id,
        'x-spectro-timestamp': String(timestamp),
        [SIGNATURE_HEADER]: signature(webhook.secret, body),
      };
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      let url = webhook.url;
      try {
        for (let hop = 0; ; hop++) {
          const refused = await policy.check(url);
          if (refused) return { ok: false, status: null, latencyMs: elapsed(), error: `${hop === 0 ? 'url' : `redirect to ${url}`} refused: ${refused}` };
          const timeout = AbortSignal.timeout(timeoutMs);
          const res = await request(url, {
            method: 'POST',
            headers,
            body,
            dispatcher: agent,
            signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          });
          const location = res.headers.location;
          if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
            await res.body.dump();
            if (hop >= MAX_REDIRECTS) return { ok: false, status: res.statusCode, latencyMs: elapsed(), error: `more than ${MAX_REDIRECTS} redirects` };
            url = new URL(location, url).toString();
            continue;
          }
          const text = (await res.body.text()).slice(0, KEEP_BYTES);
          const ok = res.statusCode >= 200 && res.statusCode < 300;
          return { ok, status: res.statusCode, latencyMs: elapsed(), error: ok ? null : `HTTP ${res.statusCode}${text ? `: ${text}` : ''}` };
        }
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
        const reason =
          e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : [e.code ?? e.cause?.code, e.cause?.message ?? e.message].filter(Boolean).join(' ');
        return { ok: false, status: null, latencyMs: elapsed(), error: reason };
      }
    },
    close: () => agent.close(),
  };
}
