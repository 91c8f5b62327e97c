import { DeliveryStatus, WebhookEvent as WebhookEventValues, type WebhookDeliveryRecord, type WebhookRecord } from '../runtime/store/types.ts';
import { builder } from './builder.ts';

export const WebhookEvent = builder.enumType('WebhookEvent', {
  description: 'What a webhook (and MQTT) is told about; payloads in docs/integration.md',
  values: {
    [WebhookEventValues.PREDICTION_RESULT]: { description: 'An assessment was stored (each picture judged)' },
    [WebhookEventValues.TRAINING_FINISHED]: { description: 'A training ended: READY, FAILED or CANCELLED' },
    [WebhookEventValues.MODEL_ACTIVATED]: { description: "A model became its target's active one" },
  } as const,
});

export const WebhookDeliveryStatus = builder.enumType('WebhookDeliveryStatus', {
  values: {
    [DeliveryStatus.PENDING]: { description: 'Waiting for its first or next attempt' },
    [DeliveryStatus.SUCCEEDED]: { description: 'The receiver answered 2xx' },
    [DeliveryStatus.FAILED]: { description: 'Still failing when its retries ran out (WEBHOOK_GIVE_UP_AFTER_MS)' },
  } as const,
});

export const Webhook = builder.objectRef<WebhookRecord>('Webhook');
export const WebhookDelivery = builder.objectRef<WebhookDeliveryRecord>('WebhookDelivery');

export const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  fields: (t) => ({
    url: t.string({ required: true, description: 'http(s) URL the events are POSTed to (checked against WEBHOOK_ALLOWED_HOSTS)' }),
    events: t.field({ type: [WebhookEvent], required: true }),
    targetId: t.id({ description: 'Only events of this target (default: every target)' }),
    modelId: t.id({ description: 'Only events of this model (default: every model)' }),
    secret: t.string({ description: 'Key of X-Spectro-Signature, 16..256 characters (default: generated, read it from Webhook.secret)' }),
    description: t.string(),
  }),
});

export const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', {
  description: 'Fields to change; absent fields stay as they are (targetId/modelId null: every target/model)',
  fields: (t) => ({
    url: t.string(),
    events: t.field({ type: [WebhookEvent] }),
    targetId: t.id(),
    modelId: t.id(),
    secret: t.string(),
    description: t.string(),
    active: t.boolean({ description: 'false pauses deliveries (they wait, in order); true resumes them' }),
  }),
});
