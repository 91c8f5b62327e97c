import { builder } from '../schema/builder.ts';
import { connectionFromPage, pageOf } from '../schema/connection.ts';
import { Model } from '../schema/models.ts';
import { Target } from '../schema/targets.ts';
import { CreateWebhookInput, UpdateWebhookInput, Webhook, WebhookDelivery, WebhookDeliveryStatus, WebhookEvent } from '../schema/webhooks.ts';

export const WebhookDeliveryConnection = builder.connectionObject(
  { type: WebhookDelivery, name: 'WebhookDeliveryConnection' },
  { name: 'WebhookDeliveryEdge' },
);

builder.objectType(Webhook, {
  description: 'Where results are pushed: a signed JSON POST per event (docs/integration.md)',
  fields: (t) => ({
    id: t.exposeID('id'),
    url: t.exposeString('url'),
    events: t.field({ type: [WebhookEvent], resolve: (w) => w.events }),
    target: t.field({ type: Target, nullable: true, resolve: (w, _args, ctx) => (w.targetId ? ctx.loaders.target.load(w.targetId) : null) }),
    model: t.field({ type: Model, nullable: true, resolve: (w, _args, ctx) => (w.modelId ? ctx.loaders.model.load(w.modelId) : null) }),
    secret: t.exposeString('secret', { authScopes: { writer: true }, description: 'The HMAC key of X-Spectro-Signature (scope all only)' }),
    description: t.exposeString('description', { nullable: true }),
    active: t.exposeBoolean('active'),
    createdAt: t.field({ type: 'DateTime', resolve: (w) => w.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (w) => w.updatedAt }),
  }),
});

builder.objectType(WebhookDelivery, {
  description: 'One event sent (or to be sent) to one webhook; its id is the X-Spectro-Delivery header',
  fields: (t) => ({
    id: t.exposeID('id'),
    webhook: t.field({ type: Webhook, resolve: async (d, _args, ctx) => (await ctx.services.store.webhooksByIds([d.webhookId]))[0]! }),
    event: t.field({ type: WebhookEvent, resolve: (d) => d.event }),
    status: t.field({ type: WebhookDeliveryStatus, resolve: (d) => d.status }),
    attempts: t.exposeInt('attempts'),
    responseCode: t.exposeInt('responseCode', { nullable: true, description: "The receiver's last HTTP status (null: no answer)" }),
    latencyMs: t.exposeInt('latencyMs', { nullable: true, description: 'How long the last attempt took' }),
    error: t.exposeString('error', { nullable: true, description: 'Why the last attempt failed' }),
    nextAttemptAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => (d.status === 'PENDING' ? d.nextAttemptAt : null) }),
    lastAttemptAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.lastAttemptAt }),
    payload: t.string({ description: "The event's data (JSON), sent inside the signed envelope", resolve: (d) => d.payload }),
    createdAt: t.field({ type: 'DateTime', resolve: (d) => d.createdAt }),
  }),
});

builder.queryFields((t) => ({
  webhooks: t.field({
    type: [Webhook],
    args: { targetId: t.arg.id({ description: 'Only the webhooks of this target' }) },
    resolve: (_root, args, ctx) => ctx.services.webhooks.list(args.targetId ?? null),
  }),
  webhookDeliveries: t.field({
    type: WebhookDeliveryConnection,
    description: 'Newest first',
    args: { webhookId: t.arg.id({ required: true }), first: t.arg.int(), after: t.arg.string() },
    resolve: async (_root, args, ctx) => connectionFromPage(await ctx.services.webhooks.deliveries(args.webhookId, pageOf(args))),
  }),
}));

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: Webhook,
    skipTypeScopes: true,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateWebhookInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.webhooks.create(input),
  }),
  updateWebhook: t.field({
    type: Webhook,
    skipTypeScopes: true,
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateWebhookInput, required: true }) },
    resolve: (_root, { id, input }, ctx) =>
      ctx.services.webhooks.update(id, {
        ...(input.url != null ? { url: input.url } : {}),
        ...(input.events != null ? { events: input.events } : {}),
        ...(input.targetId !== undefined ? { targetId: input.targetId } : {}),
        ...(input.modelId !== undefined ? { modelId: input.modelId } : {}),
        ...(input.secret != null ? { secret: input.secret } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.active != null ? { active: input.active } : {}),
      }),
  }),
  deleteWebhook: t.field({
    type: 'ID',
    skipTypeScopes: true,
    authScopes: { admin: true },
    description: 'Deletes the webhook with its deliveries',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.webhooks.delete(id),
  }),
  redeliverWebhook: t.field({
    type: WebhookDelivery,
    skipTypeScopes: true,
    authScopes: { admin: true },
    description: 'Sends a delivery again, as a new delivery with its own retries',
    args: { deliveryId: t.arg.id({ required: true }) },
    resolve: (_root, { deliveryId }, ctx) => ctx.services.webhooks.redeliver(deliveryId),
  }),
}));
