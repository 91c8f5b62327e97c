import type { PageArgs } from '../store/store.ts';
import type { Page, WebhookDeliveryRecord, WebhookEvent, WebhookRecord } from '../store/types.ts';

export interface WebhookInput {
  url: string;
  events: readonly WebhookEvent[];
  /** Only events of this target (null: every target). */
  targetId?: string | null;
  /** Only events of this model (null: every model). */
  modelId?: string | null;
  /** HMAC key of X-Spectro-Signature (16..256 characters); generated when absent. */
  secret?: string | null;
  description?: string | null;
}

export type WebhookUpdate = Partial<WebhookInput> & { active?: boolean | null };

/**
 * Webhooks: the line's MES or PLC gateway is told about results, finished trainings and model
 * changes by a signed JSON POST. Every delivery is recorded before it is sent, sent in order per
 * webhook by the `webhook` job queue, retried with exponential backoff and jitter until it
 * succeeds or WEBHOOK_GIVE_UP_AFTER_MS passed, and resumed from the store after a restart.
 */
export interface WebhooksService {
  create(input: WebhookInput): Promise<WebhookRecord>;
  update(id: string, patch: WebhookUpdate): Promise<WebhookRecord>;
  /** NOT_FOUND when it does not exist; its deliveries go with it. */
  delete(id: string): Promise<string>;
  list(targetId?: string | null): Promise<WebhookRecord[]>;
  deliveries(webhookId: string, page: PageArgs): Promise<Page<WebhookDeliveryRecord>>;
  /** Sends a delivery's event again, as a new delivery (with a fresh retry window). */
  redeliver(deliveryId: string): Promise<WebhookDeliveryRecord>;
  /** Queues the deliveries that are pending in the store (after a restart, or left by another instance). */
  resume(): Promise<void>;
  close(): Promise<void>;
}
