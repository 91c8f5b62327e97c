import { AppError, ErrorCode, notFound } from '../../../errors.ts';
import { isUniqueViolation } from '../db/sql.ts';
import { toClient } from '../rows.ts';
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
    async countClients() {
      const { n } = await db.selectFrom('clients').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
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
      await db.insertInto('settings').values({ key, value }).onConflict((oc) => oc.column('key').doNothing()).execute();
      const r = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirstOrThrow();
      return r.value;
    },
  };
}
