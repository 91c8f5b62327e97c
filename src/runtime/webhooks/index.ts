import { randomBytes } from 'node:crypto';
import type { IntegrationConfig } from '../../config.ts';
import { AppError, ErrorCode, badInput, notFound } from '../../errors.ts';
import { currentLog, type Logger } from '../../logging.ts';
import type { IntegrationEvents } from '../events/events.ts';
import type { JobRunner } from '../jobs/jobs.ts';
import type { Store } from '../store/store.ts';
import { DeliveryStatus, WebhookEvent, type WebhookRecord } from '../store/types.ts';
import { createSender, type Sender } from './send.ts';
import { createUrlPolicy } from './url-policy.ts';
import type { WebhookInput, WebhooksService } from './webhooks.ts';

export type { WebhooksService, WebhookInput, WebhookUpdate } from './webhooks.ts';
export { signature, envelope } from './send.ts';

/** Webhooks delivering at once (each one's deliveries go out one after the other). */
const CONCURRENCY = 8;
/** How often the store is asked for due deliveries nobody queued (another instance's, lost wake-ups). */
const SWEEP_MS = 30_000;
const MAX_URL = 2048;

export interface WebhooksDeps {
  store: Store;
  events: IntegrationEvents;
  jobs: JobRunner;
  config: IntegrationConfig;
  log: Logger;
  version?: string;
  /** For tests: the clock (epoch ms) and the jitter source (0..1). */
  now?: () => number;
  random?: () => number;
}

const EVENTS = new Set<string>(Object.values(WebhookEvent));

export function createWebhooksService(deps: WebhooksDeps): WebhooksService {
  const { store, config, log } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const iso = (ms: number) => new Date(ms).toISOString();
  const policy = createUrlPolicy(config.webhookAllowedHosts);
  const sender: Sender = createSender({ policy, timeoutMs: config.webhookTimeoutMs, userAgent: `spectro-gateway/${deps.version ?? '0'} (webhook)` });
  /** How long one attempt may hold its delivery before another may take it again. */
  const leaseMs = config.webhookTimeoutMs * 5 + 5000;

  const timers = new Map<string, NodeJS.Timeout>();
  /** Webhooks that got a delivery while their job was running: it looks again before it ends. */
  const dirty = new Set<string>();
  let closed = false;

  /** Exponential backoff with jitter: base·2^(n-1), at most the cap, then 50..100 % of it. */
  const backoff = (attempts: number) => {
    const raw = Math.min(config.webhookRetryBaseMs * 2 ** Math.max(0, attempts - 1), config.webhookRetryMaxDelayMs);
    return Math.round(raw * (0.5 + random() / 2));
  };

  const queue = deps.jobs.queue<{ webhookId: string }>(
    'webhook',
    async (job) => {
      const webhookId = job.data.webhookId;
      for (;;) {
        if (job.signal.aborted) return;
        const [webhook] = await store.webhooksByIds([webhookId]);
        if (!webhook?.active) return;
        const next = await store.nextPendingDelivery(webhookId);
        if (!next) {
          if (dirty.delete(webhookId)) continue;
          return;
        }
        const t = now();
        const due = Date.parse(next.nextAttemptAt);
        if (due > t) return wakeAt(webhookId, due);
        const delivery = await store.claimDelivery(next.id, iso(t), iso(t + leaseMs));
        // Another instance is sending it: look again once its lease could have run out.
        if (!delivery) return wakeAt(webhookId, t + leaseMs);
        const result = await sender.send(webhook, delivery, job.signal);
        const done = now();
        const outcome = { responseCode: result.status, latencyMs: result.latencyMs, error: result.error, lastAttemptAt: iso(done) };
        if (result.ok) {
          await store.updateDelivery(delivery.id, { ...outcome, status: DeliveryStatus.SUCCEEDED, nextAttemptAt: iso(done) });
          continue;
        }
        if (job.signal.aborted) {
          // Shutting down mid-attempt: not the receiver's failure; the attempt is given back.
          await store.updateDelivery(delivery.id, { attempts: delivery.attempts - 1, nextAttemptAt: iso(done) });
          return;
        }
        if (done - Date.parse(delivery.createdAt) >= config.webhookGiveUpAfterMs) {
          await store.updateDelivery(delivery.id, { ...outcome, status: DeliveryStatus.FAILED, nextAttemptAt: iso(done) });
          currentLog(log).warn({ webhookId, deliveryId: delivery.id, attempts: delivery.attempts, error: result.error }, 'webhook: delivery failed for good');
          continue;
        }
        const retryAt = done + backoff(delivery.attempts);
        await store.updateDelivery(delivery.id, { ...outcome, nextAttemptAt: iso(retryAt) });
        // In order: nothing after it goes out before it does.
        return wakeAt(webhookId, retryAt);
      }
    },
    { concurrency: CONCURRENCY },
  );

  function kick(webhookId: string) {
    if (closed) return;
    queue
      .state(webhookId)
      .then((state) => {
        if (state === 'running') {
          dirty.add(webhookId);
          return;
        }
        return queue.enqueue(webhookId, { webhookId });
      })
      .catch((err) => currentLog(log).warn({ err, webhookId }, 'webhook: could not queue'));
  }

  function wakeAt(webhookId: string, at: number) {
    if (closed) return;
    clearTimeout(timers.get(webhookId));
    const timer = setTimeout(
      () => {
        timers.delete(webhookId);
        kick(webhookId);
      },
      Math.max(0, at - now()),
    );
    timer.unref();
    timers.set(webhookId, timer);
  }

  const resume = async () => {
    for (const id of await store.webhooksWithPendingDeliveries()) kick(id);
  };
  const sweep = setInterval(() => resume().catch((err) => currentLog(log).warn({ err }, 'webhook: sweep failed')), SWEEP_MS);
  sweep.unref();

  deps.events.on(async (event) => {
    const hooks = await store.webhooksFor(event.event, event.targetId, event.modelId);
    if (hooks.length === 0) return;
    const data = await event.data();
    if (!data) return;
    const payload = JSON.stringify(data);
    const added = await store.addDeliveries(hooks.map((h) => ({ webhookId: h.id, event: event.event, eventKey: event.key, payload })));
    for (const id of new Set(added.map((d) => d.webhookId))) kick(id);
  });

  async function checked(input: Partial<WebhookInput>, current: WebhookRecord | null) {
    const out: Partial<Omit<WebhookRecord, 'id' | 'createdAt' | 'updatedAt' | 'active'>> = {};
    if (input.url !== undefined && input.url !== null) {
      const url = input.url.trim();
      if (url.length > MAX_URL) throw badInput(`url is longer than ${MAX_URL} characters`, { argument: 'url' });
      const refused = await policy.check(url);
      if (refused) throw badInput(`url ${refused}`, { argument: 'url' });
      out.url = url;
    }
    if (input.events !== undefined && input.events !== null) {
      const events = [...new Set(input.events)];
      if (events.length === 0) throw badInput('events must name at least one event', { argument: 'events' });
      const unknown = events.find((e) => !EVENTS.has(e));
      if (unknown) throw badInput(`events: "${unknown}" is not an event (${[...EVENTS].join(', ')})`, { argument: 'events' });
      out.events = events;
    }
    if (input.targetId !== undefined) {
      if (input.targetId && (await store.targetsByIds([input.targetId])).length === 0) throw notFound('Target', input.targetId);
      out.targetId = input.targetId ?? null;
    }
    if (input.modelId !== undefined) {
      if (input.modelId) {
        const [model] = await store.modelsByIds([input.modelId]);
        if (!model) throw notFound('Model', input.modelId);
        const targetId = out.targetId !== undefined ? out.targetId : (current?.targetId ?? null);
        if (targetId && model.targetId !== targetId)
          throw badInput(`model "${model.id}" belongs to another target than "${targetId}"`, { argument: 'modelId' });
      }
      out.modelId = input.modelId ?? null;
    }
    if (input.secret !== undefined && input.secret !== null) {
      if (input.secret.length < 16 || input.secret.length > 256) throw badInput('secret must be 16..256 characters', { argument: 'secret' });
      out.secret = input.secret;
    }
    if (input.description !== undefined) {
      if (input.description && input.description.length > 500) throw badInput('description is longer than 500 characters', { argument: 'description' });
      out.description = input.description ?? null;
    }
    return out;
  }

  const byId = async (id: string) => {
    const [webhook] = await store.webhooksByIds([id]);
    if (!webhook) throw notFound('Webhook', id);
    return webhook;
  };

  return {
    async create(input) {
      if (!input.url) throw badInput('url is required', { argument: 'url' });
      if (!input.events || input.events.length === 0) throw badInput('events must name at least one event', { argument: 'events' });
      const values = await checked(input, null);
      const webhook = await store.createWebhook({
        url: values.url!,
        events: values.events!,
        targetId: values.targetId ?? null,
        modelId: values.modelId ?? null,
        secret: values.secret ?? randomBytes(32).toString('base64url'),
        description: values.description ?? null,
      });
      currentLog(log).info({ webhookId: webhook.id, events: webhook.events, targetId: webhook.targetId }, 'webhook created');
      return webhook;
    },
    async update(id, patch) {
      const current = await byId(id);
      const values = await checked(patch, current);
      const updated = await store.updateWebhook(id, { ...values, ...(patch.active != null ? { active: patch.active } : {}) });
      if (updated.active) kick(id);
      return updated;
    },
    async delete(id) {
      if (!(await store.deleteWebhook(id))) throw notFound('Webhook', id);
      clearTimeout(timers.get(id));
      timers.delete(id);
      return id;
    },
    list: (targetId) => store.listWebhooks({ targetId: targetId ?? null }),
    async deliveries(webhookId, page) {
      await byId(webhookId);
      return store.listDeliveries(webhookId, page);
    },
    async redeliver(deliveryId) {
      const [old] = await store.deliveriesByIds([deliveryId]);
      if (!old) throw notFound('Webhook delivery', deliveryId);
      if (old.status === DeliveryStatus.PENDING) {
        throw new AppError(ErrorCode.CONFLICT, `delivery "${deliveryId}" is still pending; it is retried by itself`, { argument: 'deliveryId' });
      }
      const [copy] = await store.addDeliveries([
        { webhookId: old.webhookId, event: old.event, eventKey: `redelivery:${old.id}:${now()}:${random()}`, payload: old.payload },
      ]);
      kick(old.webhookId);
      return copy!;
    },
    resume,
    async close() {
      closed = true;
      clearInterval(sweep);
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      // The queue is the job runner's: the server closes it (running deliveries end) before this.
      await sender.close();
    },
  };
}
