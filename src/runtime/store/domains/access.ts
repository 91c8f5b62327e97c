import { AppError, ErrorCode, notFound } from '../../../errors.ts';
import { isUniqueViolation } from '../db/sql.ts';
import { newId } from '../ids.ts';
import { toAuditEvent, toClient } from '../rows.ts';
import { page, type Filter } from './paging.ts';
import type { AccessStore } from '../store.ts';
import type { StoreContext } from './context.ts';

export function accessQueries(ctx: StoreContext): AccessStore {
  const { db } = ctx;
  return {
    async clientById(clientId) {
      const r = await db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
      return r ? toClient(r) : null;
    },
    async createClient(c) {
      try {
        await db
          .insertInto('clients')
          .values({ client_id: c.clientId, secret_hash: c.secretHash, scope: c.scope, name: c.name, created_at: c.createdAt })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError(ErrorCode.CONFLICT, `client "${c.clientId}" already exists`);
        throw err;
      }
      return c;
    },
    async updateClient(clientId, patch) {
      const set = {
        ...(patch.secretHash != null ? { secret_hash: patch.secretHash } : {}),
        ...(patch.scope != null ? { scope: patch.scope } : {}),
        ...(patch.name != null ? { name: patch.name } : {}),
      };
      const r = Object.keys(set).length
        ? await db.updateTable('clients').set(set).where('client_id', '=', clientId).returningAll().executeTakeFirst()
        : await db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
      if (!r) throw notFound('Client', clientId);
      return toClient(r);
    },
    async listClients() {
      return (await db.selectFrom('clients').selectAll().orderBy('created_at', 'desc').execute()).map(toClient);
    },
    async revokeClient(clientId, at) {
      const r = await db
        .updateTable('clients')
        .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(at)) }))
        .where('client_id', '=', clientId)
        .returningAll()
        .executeTakeFirst();
      if (!r) throw notFound('Client', clientId);
      return toClient(r);
    },
    async rotateClientSecret(clientId, secretHash, at) {
      const r = await db
        .updateTable('clients')
        .set({ secret_hash: secretHash, rotated_at: at })
        .where('client_id', '=', clientId)
        .where('revoked_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (!r) throw notFound('Client', clientId);
      return toClient(r);
    },
    async recordAuditEvents(events) {
      if (events.length === 0) return [];
      // One statement: one transaction (one fsync) for the lot.
      const rows = await db
        .insertInto('audit_events')
        .values(
          events.map((e) => ({
            id: newId(),
            at: e.at,
            actor: e.actor,
            actor_kind: e.actorKind,
            action: e.action,
            target_type: e.targetType,
            target_ids: JSON.stringify(e.targetIds),
            outcome: e.outcome,
            detail: e.detail,
            source: e.source,
          })),
        )
        .returningAll()
        .execute();
      return rows.map(toAuditEvent);
    },
    async listAuditEvents(filter, args) {
      const where: Filter[] = [];
      if (filter.actor) where.push((eb) => eb('actor', '=', filter.actor));
      if (filter.action) where.push((eb) => eb('action', '=', filter.action));
      if (filter.since) where.push((eb) => eb('at', '>=', filter.since));
      if (filter.until) where.push((eb) => eb('at', '<=', filter.until));
      // Ids are stored as a JSON list; a quoted match finds one among them on either engine.
      if (filter.targetId) where.push((eb) => eb(eb.cast('target_ids', 'text'), 'like', `%${JSON.stringify(filter.targetId)}%`));
      return page(ctx, 'audit_events', where, args, toAuditEvent);
    },
    async countClients() {
      const { n } = await db
        .selectFrom('clients')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(n);
    },
    async license() {
      const r = await db.selectFrom('license').selectAll().where('id', '=', 1).executeTakeFirst();
      return r ? { document: r.document, expiresAt: r.expires_at, installedAt: r.installed_at } : null;
    },
    async setLicense(l) {
      await db
        .insertInto('license')
        .values({ id: 1, document: l.document, expires_at: l.expiresAt, installed_at: l.installedAt })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            document: eb.ref('excluded.document'),
            expires_at: eb.ref('excluded.expires_at'),
            installed_at: eb.ref('excluded.installed_at'),
          })),
        )
        .execute();
      return l;
    },
    async getSetting(key) {
      const r = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
      return r ? r.value : null;
    },
    async setSetting(key, value) {
      await db
        .insertInto('settings')
        .values({ key, value })
        .onConflict((oc) => oc.column('key').doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
        .execute();
    },
    async initSetting(key, value) {
      await db
        .insertInto('settings')
        .values({ key, value })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      const r = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirstOrThrow();
      return r.value;
    },
  };
}
