import { prepare } from '../db/prepared.ts';
import { inListValue, listValue } from '../db/sql.ts';
import type { RegionStore } from '../store.ts';
import type { Region, RegionSetRecord } from '../types.ts';
import { requireAll } from './checks.ts';
import type { StoreContext } from './context.ts';

/** SQLite answers JSON text, PostgreSQL (jsonb) the parsed value. */
const parsed = (v: unknown): Region[] => (typeof v === 'string' ? (JSON.parse(v) as Region[]) : ((v ?? []) as Region[]));

export function regionQueries(ctx: StoreContext): RegionStore {
  const { db, engine } = ctx;
  // Read by every predict (its model's and target's regions).
  const byOwners = prepare((p) =>
    db
      .selectFrom('region_sets')
      .selectAll()
      .where(inListValue(engine, 'owner_id', p('owners'))),
  );
  return {
    async regionSetsByOwners(ownerIds) {
      if (ownerIds.length === 0) return [];
      const rows = await byOwners.run(db, { owners: listValue(engine, ownerIds) });
      return rows.map(
        (r): RegionSetRecord => ({ ownerKind: r.model_id ? 'model' : 'target', ownerId: r.owner_id, regions: parsed(r.regions), updatedAt: r.updated_at }),
      );
    },
    async setRegions(owner, regions) {
      return ctx.tx(async (trx) => {
        await requireAll(trx, engine, owner.kind === 'target' ? 'targets' : 'models', owner.kind === 'target' ? 'Target' : 'Model', [owner.id]);
        if (regions === null) {
          await trx.deleteFrom('region_sets').where('owner_id', '=', owner.id).execute();
          return null;
        }
        const updatedAt = ctx.iso();
        const json = JSON.stringify(regions);
        await trx
          .insertInto('region_sets')
          .values({
            owner_id: owner.id,
            target_id: owner.kind === 'target' ? owner.id : null,
            model_id: owner.kind === 'model' ? owner.id : null,
            regions: json,
            updated_at: updatedAt,
          })
          .onConflict((oc) => oc.column('owner_id').doUpdateSet({ regions: json, updated_at: updatedAt }))
          .execute();
        return { ownerKind: owner.kind, ownerId: owner.id, regions, updatedAt };
      });
    },
  };
}
