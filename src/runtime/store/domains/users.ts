import type { Selectable } from 'kysely';
import { AppError, ErrorCode, notFound } from '../../../errors.ts';
import type { UserSessionsTable, UsersTable } from '../db/schema.ts';
import { isUniqueViolation } from '../db/sql.ts';
import { newId } from '../ids.ts';
import { toClient } from '../rows.ts';
import type { UserStore } from '../store.ts';
import type { UserRecord, UserSessionRecord } from '../types.ts';
import type { StoreContext } from './context.ts';

const toUser = (r: Selectable<UsersTable>): UserRecord => ({
  id: r.id,
  name: r.name,
  role: r.role,
  passwordHash: r.password_hash,
  disabled: r.disabled === true || r.disabled === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toSession = (r: Selectable<UserSessionsTable>): UserSessionRecord => ({
  id: r.id,
  userId: r.user_id,
  userAgent: r.user_agent,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
});

/** Compares times as instants: PostgreSQL answers timestamptz text in its own format. */
const ms = (iso: string) => new Date(iso).getTime();

export function userQueries(ctx: StoreContext): UserStore {
  const { db, iso } = ctx;
  return {
    async createUser(u) {
      const at = iso();
      const row = { id: newId(), name: u.name, role: u.role, password_hash: u.passwordHash, disabled: false, created_at: at, updated_at: at };
      try {
        await db.insertInto('users').values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError(ErrorCode.CONFLICT, `a user named "${u.name}" already exists`, { argument: 'name' });
        throw err;
      }
      return toUser(row);
    },
    async userById(id) {
      const r = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toUser(r) : null;
    },
    async userByName(name) {
      const r = await db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
      return r ? toUser(r) : null;
    },
    async listUsers() {
      return (await db.selectFrom('users').selectAll().orderBy('name').execute()).map(toUser);
    },
    async countUsers(role) {
      let q = db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n'));
      if (role) q = q.where('role', '=', role).where('disabled', '=', false);
      const { n } = await q.executeTakeFirstOrThrow();
      return Number(n);
    },
    async updateUser(id, patch) {
      const set = {
        ...(patch.role != null ? { role: patch.role } : {}),
        ...(patch.passwordHash !== undefined ? { password_hash: patch.passwordHash } : {}),
        ...(patch.disabled != null ? { disabled: patch.disabled } : {}),
        updated_at: iso(),
      };
      const r = await db.updateTable('users').set(set).where('id', '=', id).returningAll().executeTakeFirst();
      if (!r) throw notFound('User', id);
      return toUser(r);
    },
    async deleteUser(id) {
      const r = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      if (!Number(r.numDeletedRows)) throw notFound('User', id);
    },

    async createSession(s) {
      const at = iso();
      const row = { id: s.id, user_id: s.userId, user_agent: s.userAgent, created_at: at, last_seen_at: at, expires_at: s.expiresAt, revoked_at: null };
      await db.insertInto('user_sessions').values(row).execute();
      return toSession(row);
    },
    async liveSession(id) {
      const r = await db.selectFrom('user_sessions').selectAll().where('id', '=', id).executeTakeFirst();
      if (!r || r.revoked_at !== null || ms(r.expires_at) <= ms(iso())) return null;
      return toSession(r);
    },
    async renewSession(id, expiresAt) {
      await db.updateTable('user_sessions').set({ expires_at: expiresAt, last_seen_at: iso() }).where('id', '=', id).where('revoked_at', 'is', null).execute();
    },
    async revokeSession(id) {
      await db.updateTable('user_sessions').set({ revoked_at: iso() }).where('id', '=', id).where('revoked_at', 'is', null).execute();
    },
    async revokeUserSessions(userId) {
      const r = await db
        .updateTable('user_sessions')
        .set({ revoked_at: iso() })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async sessionsOfUser(userId) {
      const now = ms(iso());
      const rows = await db
        .selectFrom('user_sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map(toSession).filter((s) => ms(s.expiresAt) > now);
    },

    async listClients() {
      return (await db.selectFrom('clients').selectAll().orderBy('created_at').execute()).map(toClient);
    },
    async deleteClient(clientId) {
      const r = await db.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst();
      if (!Number(r.numDeletedRows)) throw notFound('Client', clientId);
    },
  };
}
