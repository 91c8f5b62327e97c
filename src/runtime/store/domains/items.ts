import { sql, type SqlBool } from 'kysely';
import { notFound } from '../../../errors.ts';
import { preparedShapes } from '../db/prepared.ts';
import { inList, inListValue, listValue, trainItemIdsOf } from '../db/sql.ts';
import { newId } from '../ids.ts';
import { toImage, toItem } from '../rows.ts';
import type { ItemFilter, ItemStore } from '../store.ts';
import type { ItemRecord } from '../types.ts';
import { existingIds, requireAll } from './checks.ts';
import { chunks, type StoreContext } from './context.ts';
import { byIds } from './by-ids.ts';
import { insertImages, requireBlobs, type ImageOwnerColumn } from './images.ts';
import { count, countsBy, keysetPage, page, pagesBy, type Filter } from './paging.ts';

const imageOwnerColumn: Record<string, ImageOwnerColumn> = { item: 'item_id', assessment: 'assessment_id', model: 'model_id' };

export function itemQueries(ctx: StoreContext): ItemStore {
  const { db, engine, blobs } = ctx;
  const imagesOf = preparedShapes((column: ImageOwnerColumn, p) =>
    db
      .selectFrom('images')
      .selectAll()
      .where(inListValue(engine, column, p('ids')))
      .orderBy(column)
      .orderBy('position'),
  );
  const itemFilter = (filter: ItemFilter): Filter[] => {
    const where: Filter[] = [];
    if (filter.type) where.push((eb) => eb('type', '=', filter.type));
    if (filter.targetId) where.push((eb) => eb('target_id', '=', filter.targetId));
    if (filter.modelId) {
      const modelId = filter.modelId;
      where.push(() => sql<SqlBool>`id in (select item_id from assessments where model_id = ${modelId} union ${trainItemIdsOf(engine, modelId)})`);
    }
    return where;
  };
  return {
    /**
     * `modelId` narrows to the items that model has assessed or was trained on (its
     * `trainItemIds`): with type PREDICTION that is what it predicted, with TRAINING its
     * training set (plus any training items it assessed).
     */
    async listItems(filter, args) {
      return page(ctx, 'items', itemFilter(filter), args, toItem);
    },
    async pageItems(filter, args) {
      return keysetPage(ctx, 'items', itemFilter(filter), args, toItem);
    },
    async countItems(filter) {
      return count(ctx, 'items', itemFilter(filter));
    },
    async itemPagesByTargets(targetIds, filter, args) {
      return pagesBy(ctx, 'items', 'target_id', targetIds, filter.type ? { type: filter.type } : {}, args, toItem);
    },
    async itemCountsByTargets(targetIds, filter) {
      const where: Filter[] = filter.type ? [(eb) => eb('type', '=', filter.type)] : [];
      return countsBy(ctx, 'items', 'target_id', targetIds, where);
    },
    itemsByIds: byIds(ctx, 'items', toItem),
    async addItems(items) {
      if (items.length === 0) return [];
      const images = items.flatMap((i) => i.images);
      await requireBlobs(blobs, images, db, engine);
      const created = await ctx.tx(async (trx) => {
        await requireAll(trx, engine, 'targets', 'Target', [...new Set(items.map((i) => i.targetId))]);
        const t = ctx.iso();
        const rows = items.map((it) => ({ id: newId(), name: it.name, target_id: it.targetId, type: it.type, active: true, good: it.good, created_at: t }));
        const byId = new Map<string, ItemRecord>();
        for (const chunk of chunks(rows)) {
          for (const r of await trx.insertInto('items').values(chunk).returningAll().execute()) byId.set(r.id, toItem(r));
        }
        await insertImages(
          trx,
          engine,
          'item_id',
          items.map((it, i) => ({ ownerId: rows[i]!.id, images: it.images })),
          t,
        );
        return rows.map((r) => byId.get(r.id)!);
      });
      blobs.release(images.map((img) => img.blob));
      return created;
    },
    async labelItem(id, good, label) {
      const r = await db.updateTable('items').set({ good, user_label: label }).where('id', '=', id).returningAll().executeTakeFirst();
      if (!r) throw notFound('Item', id);
      return toItem(r);
    },
    async deleteItems(ids) {
      if (ids.length === 0) return [];
      const { existing, keys } = await ctx.tx(async (trx) => {
        const existing = await existingIds(trx, engine, 'items', ids);
        if (existing.length === 0) return { existing, keys: [] as string[] };
        const { rows } = await sql<{ k: string }>`
          select distinct blob as k from images where ${inList(engine, 'item_id', existing)}
            or assessment_id in (select id from assessments where ${inList(engine, 'item_id', existing)})`.execute(trx);
        await trx
          .deleteFrom('items')
          .where(inList(engine, 'id', existing))
          .execute();
        return { existing, keys: rows.map((r) => r.k) };
      });
      await blobs.deleteUnreferenced(keys);
      return existing;
    },
    async imagesByOwners(kind, ownerIds) {
      if (ownerIds.length === 0) return [];
      const column = imageOwnerColumn[kind];
      if (!column) throw new Error(`unknown image owner kind ${kind}`);
      return (await imagesOf(column).run(db, { ids: listValue(engine, ownerIds) })).map(toImage);
    },
    imagesByIds: byIds(ctx, 'images', toImage),
  };
}
