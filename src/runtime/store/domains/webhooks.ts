import { type Placeholder, prepare } from '../db/prepared.ts';
import { notFound } from '../../../errors.ts';
import { newId } from '../ids.ts';
import { toDelivery, toWebhook } from '../rows.ts';
import type { WebhookStore } from '../store.ts';
import { DeliveryStatus } from '../types.ts';
import { chunks, type StoreContext } from './context.ts';
import { byIds } from './by-ids.ts';
import { page } from './paging.ts';

export function webhookQueries(ctx: StoreContext): WebhookStore {
  const { db } = ctx;
  // Read for every result (each predict): the active webhooks of a target, and of a model.
  const subscribed = (p: Placeholder, model: boolean) =>
    db
      .selectFrom('webhooks')
      .selectAll()
      .where('active', '=', p('yes'))
      .where((eb) => eb.or([eb('target_id', 'is', null), eb('target_id', '=', p('targetId'))]))
      .where((eb) => (model ? eb.or([eb('model_id', 'is', null), eb('model_id', '=', p('modelId'))]) : eb('model_id', 'is', null)))
      .orderBy('id');
  const forModel = prepare((p) => subscribed(p, true));
  const forTarget = prepare((p) => subscribed(p, false));
  return {
    async createWebhook(w) {
      const now = ctx.iso();
      const r = await db
        .insertInto('webhooks')
        .values({
          id: newId(),
          url: w.url,
          events: JSON.stringify(w.events),
          target_id: w.targetId,
          model_id: w.modelId,
          secret: w.secret,
          description: w.description,
          active: true,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toWebhook(r);
    },

    async updateWebhook(id, patch) {
      const set: Record<string, unknown> = { updated_at: ctx.iso() };
      if (patch.url !== undefined) set.url = patch.url;
      if (patch.events !== undefined) set.events = JSON.stringify(patch.events);
      if (patch.targetId !== undefined) set.target_id = patch.targetId;
      if (patch.modelId !== undefined) set.model_id = patch.modelId;
      if (patch.secret !== undefined) set.secret = patch.secret;
      if (patch.description !== undefined) set.description = patch.description;
      if (patch.active !== undefined) set.active = patch.active;
      const r = await db.updateTable('webhooks').set(set).where('id', '=', id).returningAll().executeTakeFirst();
      if (!r) throw notFound('Webhook', id);
      return toWebhook(r);
    },

    async deleteWebhook(id) {
      const r = await db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    webhooksByIds: byIds(ctx, 'webhooks', toWebhook),

    async listWebhooks({ targetId }) {
      return (
        await db
          .selectFrom('webhooks')
          .selectAll()
          .$if(!!targetId, (q) => q.where('target_id', '=', targetId!))
          .orderBy('id')
          .execute()
      ).map(toWebhook);
    },

    async webhooksFor(event, targetId, modelId) {
      const rows = await (modelId ? forModel : forTarget).run(db, { yes: true, targetId, modelId });
      // Few webhooks, a short JSON list each: the event filter is read here on either engine.
      return rows.map(toWebhook).filter((w) => w.events.includes(event));
    },

    async addDeliveries(deliveries) {
      if (deliveries.length === 0) return [];
      const now = ctx.iso();
      return ctx.tx(async (trx) => {
        const added = [];
        for (const part of chunks(deliveries)) {
          const rows = await trx
            .insertInto('webhook_deliveries')
            .values(
              part.map((d) => ({
                id: newId(),
                webhook_id: d.webhookId,
                event: d.event,
                event_key: d.eventKey,
                payload: d.payload,
                status: DeliveryStatus.PENDING,
                attempts: 0,
                next_attempt_at: now,
                created_at: now,
              })),
            )
            .onConflict((oc) => oc.columns(['webhook_id', 'event_key']).doNothing())
            .returningAll()
            .execute();
          added.push(...rows.map(toDelivery));
        }
        return added;
      });
    },

    deliveriesByIds: byIds(ctx, 'webhook_deliveries', toDelivery),

    listDeliveries: (webhookId, args) => page(ctx, 'webhook_deliveries', [(eb) => eb('webhook_id', '=', webhookId)], args, toDelivery),

    async nextPendingDelivery(webhookId) {
      const r = await db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('webhook_id', '=', webhookId)
        .where('status', '=', DeliveryStatus.PENDING)
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      return r ? toDelivery(r) : null;
    },

    async webhooksWithPendingDeliveries() {
      const rows = await db.selectFrom('webhook_deliveries').select('webhook_id').distinct().where('status', '=', DeliveryStatus.PENDING).execute();
      return rows.map((r) => r.webhook_id);
    },

    async claimDelivery(id, now, leaseUntil) {
      const r = await db
        .updateTable('webhook_deliveries')
        .set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: leaseUntil, last_attempt_at: now }))
        .where('id', '=', id)
        .where('status', '=', DeliveryStatus.PENDING)
        .where('next_attempt_at', '<=', now)
        .returningAll()
        .executeTakeFirst();
      return r ? toDelivery(r) : null;
    },

    async updateDelivery(id, patch) {
      const set: Record<string, unknown> = {};
      if (patch.status !== undefined) set.status = patch.status;
      if (patch.nextAttemptAt !== undefined) set.next_attempt_at = patch.nextAttemptAt;
      if (patch.lastAttemptAt !== undefined) set.last_attempt_at = patch.lastAttemptAt;
      if (patch.responseCode !== undefined) set.response_code = patch.responseCode;
      if (patch.latencyMs !== undefined) set.latency_ms = patch.latencyMs;
      if (patch.error !== undefined) set.error = patch.error;
      if (patch.attempts !== undefined) set.attempts = patch.attempts;
      const r = await db.updateTable('webhook_deliveries').set(set).where('id', '=', id).returningAll().executeTakeFirst();
      if (!r) throw notFound('Webhook delivery', id);
      return toDelivery(r);
    },
  };
}
