import { AppError, ErrorCode, badInput, notFound } from '../../../errors.ts';
import { prepare } from '../db/prepared.ts';
import { exclusive, isUniqueViolation, nextKeys } from '../db/sql.ts';
import { newId } from '../ids.ts';
import { toTarget } from '../rows.ts';
import type { TargetStore } from '../store.ts';
import { byIds } from './by-ids.ts';
import type { StoreContext } from './context.ts';

/** Held while the default target may change: there is exactly one default once any target exists. */
const DEFAULT_LOCK = 'targets.default';

export function targetQueries(ctx: StoreContext): TargetStore {
  const { db, engine } = ctx;
  // Every dashboard read and every predict without a target start here.
  const all = prepare(() => db.selectFrom('targets').selectAll().orderBy('id'));
  const byDefault = prepare((p) => db.selectFrom('targets').selectAll().where('is_default', '=', p('yes')));
  return {
    async listTargets() {
      return (await all.run(db, {})).map(toTarget);
    },
    targetsByIds: byIds(ctx, 'targets', toTarget),
    async targetsByKeys(keys) {
      const wanted = [...new Set(keys)].filter((k) => Number.isSafeInteger(k));
      if (wanted.length === 0) return [];
      return (await db.selectFrom('targets').selectAll().where('key', 'in', wanted).execute()).map(toTarget);
    },
    async defaultTarget() {
      const [r] = await byDefault.run(db, { yes: true });
      return r ? toTarget(r) : null;
    },
    async createTarget(name, preprocessing) {
      const clean = name.trim();
      if (!clean) throw badInput('name must not be empty', { argument: 'name' });
      try {
        return await ctx.tx(async (trx) => {
          await exclusive(trx, engine, DEFAULT_LOCK);
          const hasDefault = await trx.selectFrom('targets').select('id').where('is_default', '=', true).executeTakeFirst();
          const [key] = await nextKeys(trx, engine, 'targets', 1);
          const r = await trx
            .insertInto('targets')
            .values({ id: newId(), key: key!, name: clean, is_default: !hasDefault, preprocessing: JSON.stringify(preprocessing), created_at: ctx.iso() })
            .returningAll()
            .executeTakeFirstOrThrow();
          return toTarget(r);
        });
      } catch (err) {
        // Serialised with every other default change, so a clash can only be the name.
        if (isUniqueViolation(err)) throw new AppError(ErrorCode.CONFLICT, `a target named "${clean}" already exists`);
        throw err;
      }
    },
    async setDefaultTarget(id) {
      return ctx.tx(async (trx) => {
        await exclusive(trx, engine, DEFAULT_LOCK);
        const exists = await trx.selectFrom('targets').select('id').where('id', '=', id).executeTakeFirst();
        if (!exists) throw notFound('Target', id);
        await trx.updateTable('targets').set({ is_default: false }).where('is_default', '=', true).where('id', '<>', id).execute();
        const r = await trx.updateTable('targets').set({ is_default: true }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
        return toTarget(r);
      });
    },
  };
}
