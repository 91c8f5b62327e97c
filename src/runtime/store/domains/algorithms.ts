import { inList, nextKeys } from '../db/sql.ts';
import { newId } from '../ids.ts';
import { toAlgorithm, toParameter } from '../rows.ts';
import type { AlgorithmStore } from '../store.ts';
import { byIds } from './by-ids.ts';
import type { StoreContext } from './context.ts';

export function algorithmQueries(ctx: StoreContext): AlgorithmStore {
  const { db, engine } = ctx;
  return {
    async syncAlgorithms(defs) {
      if (defs.length === 0) return;
      await ctx.tx(async (trx) => {
        const existing = await trx
          .selectFrom('algorithm_parameters')
          .select(['algorithm_id', 'name'])
          .where(
            inList(
              engine,
              'algorithm_id',
              defs.map((d) => d.id),
            ),
          )
          .execute();
        const known = new Set(existing.map((p) => `${p.algorithm_id}\n${p.name}`));
        // Keys only for parameters that are new: an upsert of a known one keeps its id and key.
        const fresh = defs.flatMap((d) => d.parameters.filter((p) => !known.has(`${d.id}\n${p.name}`)).map((p) => `${d.id}\n${p.name}`));
        const keys = await nextKeys(trx, engine, 'algorithm_parameters', fresh.length);
        const keyOf = new Map(fresh.map((k, i) => [k, keys[i]!]));
        for (const d of defs) {
          await trx
            .insertInto('algorithms')
            .values({ id: d.id, name: d.name, version: d.version, type: d.type, attribute: d.attribute, description: d.description, created_at: ctx.iso() })
            .onConflict((oc) =>
              oc.column('id').doUpdateSet((eb) => ({
                name: eb.ref('excluded.name'),
                version: eb.ref('excluded.version'),
                type: eb.ref('excluded.type'),
                attribute: eb.ref('excluded.attribute'),
                description: eb.ref('excluded.description'),
              })),
            )
            .execute();
          for (const [position, p] of d.parameters.entries()) {
            const values = {
              algorithm_id: d.id,
              name: p.name,
              display_name: p.displayName,
              data_type: p.dataType,
              value: p.value,
              range_lower: p.rangeLower,
              range_upper: p.rangeUpper,
              model_parameter: p.modelParameter,
              position,
            };
            const key = keyOf.get(`${d.id}\n${p.name}`);
            if (key === undefined) {
              await trx.updateTable('algorithm_parameters').set(values).where('algorithm_id', '=', d.id).where('name', '=', p.name).execute();
            } else {
              // A concurrent start may have added it meanwhile: then it stays as that one wrote it.
              await trx
                .insertInto('algorithm_parameters')
                .values({ id: newId(), key, ...values })
                .onConflict((oc) => oc.columns(['algorithm_id', 'name']).doNothing())
                .execute();
            }
          }
          await trx
            .deleteFrom('algorithm_parameters')
            .where('algorithm_id', '=', d.id)
            .$if(d.parameters.length > 0, (q) =>
              q.where((eb) =>
                eb.not(
                  inList(
                    engine,
                    'name',
                    d.parameters.map((p) => p.name),
                  ),
                ),
              ),
            )
            .execute();
        }
      });
    },
    async listAlgorithms() {
      return (await db.selectFrom('algorithms').selectAll().orderBy('name').orderBy('id').execute()).map(toAlgorithm);
    },
    algorithmsByIds: byIds(ctx, 'algorithms', toAlgorithm),
    async parametersByAlgorithmIds(ids) {
      if (ids.length === 0) return [];
      const rows = await db
        .selectFrom('algorithm_parameters')
        .selectAll()
        .where(inList(engine, 'algorithm_id', ids))
        .orderBy('algorithm_id')
        .orderBy('position')
        .execute();
      return rows.map(toParameter);
    },
  };
}
