import { sql, type Updateable } from 'kysely';
import { AppError, ErrorCode, notFound } from '../../../errors.ts';
import type { ModelsTable } from '../db/schema.ts';
import { prepare } from '../db/prepared.ts';
import { exclusive, inList } from '../db/sql.ts';
import { newId } from '../ids.ts';
import { toModel } from '../rows.ts';
import type { ModelPatch, ModelStore, NewModel } from '../store.ts';
import { existingIds, requireAll } from './checks.ts';
import { byIds } from './by-ids.ts';
import type { StoreContext } from './context.ts';
import { countsBy, page, pagesBy, type Filter } from './paging.ts';

type Updatable = Updateable<ModelsTable>;

/** A model patch as column values (JSON columns written as JSON text). */
function columnsOf(patch: ModelPatch): Updatable {
  const out: Record<string, unknown> = {};
  const set = (column: keyof ModelsTable, value: unknown) => {
    if (value !== undefined) out[column] = value;
  };
  const jsonOrNull = (v: unknown) => (v === undefined ? undefined : v == null ? null : JSON.stringify(v));
  set('name', patch.name);
  set('version', patch.version);
  set('algorithm_id', patch.algorithmId);
  set('status', patch.status);
  set('status_text', patch.statusText);
  set('progress', patch.progress);
  set('stage', patch.stage);
  set('ok_image_count', patch.okImageCount);
  set('ng_image_count', patch.ngImageCount);
  set('training_time', patch.trainingTime);
  set('stats', jsonOrNull(patch.stats));
  set('predict_parameters', patch.predictParameters === undefined ? undefined : JSON.stringify(patch.predictParameters));
  set('onnx_blob', patch.onnxBlob);
  set('input_spec', jsonOrNull(patch.inputSpec));
  set('image_blob', patch.imageBlob);
  return out as Updatable;
}

/** The row of a new model (not active; progress 1 when it arrives READY, as an import does). */
function newModelRow(m: NewModel, t: string) {
  return {
    id: newId(),
    name: m.name,
    version: m.version,
    status: m.status,
    progress: m.status === 'READY' ? 1 : 0,
    active: false,
    algorithm_id: m.algorithmId,
    target_id: m.targetId,
    ok_image_count: m.okImageCount,
    ng_image_count: m.ngImageCount,
    predict_parameters: JSON.stringify(m.predictParameters),
    params: JSON.stringify(m.params),
    train_item_ids: JSON.stringify(m.trainItemIds),
    created_at: t,
    updated_at: t,
  };
}

export function modelQueries(ctx: StoreContext): ModelStore {
  const { db, engine, blobs } = ctx;
  // Every predict without a model asks for its target's active one.
  const activeOf = prepare((p) => db.selectFrom('models').selectAll().where('target_id', '=', p('targetId')).where('active', '=', p('yes')));
  return {
    async listModels(filter, args) {
      const where: Filter[] = [];
      if (filter.algorithmId) where.push((eb) => eb('algorithm_id', '=', filter.algorithmId));
      if (filter.targetId) where.push((eb) => eb('target_id', '=', filter.targetId));
      if (filter.status) where.push((eb) => eb('status', '=', filter.status));
      return page(ctx, 'models', where, args, toModel);
    },
    async modelPagesByTargets(targetIds, args) {
      return pagesBy(ctx, 'models', 'target_id', targetIds, {}, args, toModel);
    },
    async modelCountsByTargets(targetIds) {
      return countsBy(ctx, 'models', 'target_id', targetIds, []);
    },
    modelsByIds: byIds(ctx, 'models', toModel),
    async activeModel(targetId) {
      const [r] = await activeOf.run(db, { targetId, yes: true });
      return r ? toModel(r) : null;
    },
    async activeModelsByTargetIds(targetIds) {
      if (targetIds.length === 0) return [];
      const rows = await db
        .selectFrom('models')
        .selectAll()
        .where('active', '=', true)
        .where(inList(engine, 'target_id', targetIds))
        .execute();
      return rows.map(toModel);
    },
    async createModel(m) {
      return ctx.tx(async (trx) => {
        await requireAll(trx, engine, 'algorithms', 'Algorithm', [m.algorithmId]);
        await requireAll(trx, engine, 'targets', 'Target', [m.targetId]);
        const t = ctx.iso();
        const r = await trx.insertInto('models').values(newModelRow(m, t)).returningAll().executeTakeFirstOrThrow();
        return toModel(r);
      });
    },
    async createModels(list) {
      if (list.length === 0) return [];
      const created = await ctx.tx(async (trx) => {
        await requireAll(trx, engine, 'algorithms', 'Algorithm', [...new Set(list.map((m) => m.model.algorithmId))]);
        await requireAll(trx, engine, 'targets', 'Target', [...new Set(list.map((m) => m.model.targetId))]);
        const out = [];
        for (const { model: m, patch, regions } of list) {
          const t = ctx.iso();
          const r = await trx
            .insertInto('models')
            .values({
              ...newModelRow(m, t),
              ...columnsOf(patch),
            } as never)
            .returningAll()
            .executeTakeFirstOrThrow();
          // The model's own regions of interest (an imported manifest's), in the same transaction.
          if (regions) {
            await trx
              .insertInto('region_sets')
              .values({ owner_id: r.id, target_id: null, model_id: r.id, regions: JSON.stringify(regions), updated_at: t })
              .execute();
          }
          out.push(toModel(r));
        }
        return out;
      });
      blobs.release(list.flatMap(({ patch }) => [patch.onnxBlob, patch.imageBlob]).filter((k): k is string => !!k));
      return created;
    },
    async updateModel(id, patch) {
      const r = await db
        .updateTable('models')
        .set({ ...columnsOf(patch), updated_at: ctx.iso() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (!r) throw notFound('Model', id);
      blobs.release([patch.onnxBlob, patch.imageBlob].filter((k): k is string => !!k));
      return toModel(r);
    },
    async activateModel(id, actor = null, opts = {}) {
      return ctx.tx(async (trx) => {
        const m = await trx.selectFrom('models').select(['target_id', 'status']).where('id', '=', id).executeTakeFirst();
        if (!m) throw notFound('Model', id);
        // One active model per target: activations of the same target wait for each other.
        await exclusive(trx, engine, `models.active:${m.target_id}`);
        const { status } = await trx.selectFrom('models').select('status').where('id', '=', id).executeTakeFirstOrThrow();
        if (status !== 'READY') {
          throw new AppError(ErrorCode.CONFLICT, `model "${id}" is ${status}; only a READY model can be activated`, { id });
        }
        const t = ctx.iso();
        const previous = await trx.selectFrom('models').select('id').where('target_id', '=', m.target_id).where('active', '=', true).executeTakeFirst();
        if (opts.ifNoneActive && previous && previous.id !== id) {
          return toModel(await trx.selectFrom('models').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
        }
        await trx
          .updateTable('models')
          .set({ active: false, updated_at: t })
          .where('target_id', '=', m.target_id)
          .where('active', '=', true)
          .where('id', '<>', id)
          .execute();
        const r = await trx.updateTable('models').set({ active: true, updated_at: t }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
        // Activating the active model again changes nothing, so it adds no history line.
        if (previous?.id !== id) {
          await trx
            .insertInto('model_activations')
            .values({ id: newId(), target_id: m.target_id, model_id: id, previous_model_id: previous?.id ?? null, actor, at: t })
            .execute();
        }
        return toModel(r);
      });
    },
    async activationHistory(targetId, limit) {
      const rows = await db.selectFrom('model_activations').selectAll().where('target_id', '=', targetId).orderBy('id', 'desc').limit(limit).execute();
      return rows.map((r) => ({
        id: r.id,
        targetId: r.target_id,
        modelId: r.model_id,
        previousModelId: r.previous_model_id,
        actor: r.actor,
        at: String(r.at),
      }));
    },
    async deleteModels(ids) {
      if (ids.length === 0) return [];
      const { existing, keys } = await ctx.tx(async (trx) => {
        const existing = await existingIds(trx, engine, 'models', ids);
        if (existing.length === 0) return { existing, keys: [] as string[] };
        const { rows } = await sql<{ k: string }>`
          select blob as k from images where ${inList(engine, 'model_id', existing)}
            or assessment_id in (select id from assessments where ${inList(engine, 'model_id', existing)})
          union select onnx_blob from models where ${inList(engine, 'id', existing)} and onnx_blob is not null
          union select image_blob from models where ${inList(engine, 'id', existing)} and image_blob is not null`.execute(trx);
        await trx
          .deleteFrom('models')
          .where(inList(engine, 'id', existing))
          .execute();
        return { existing, keys: rows.map((r) => r.k) };
      });
      await blobs.deleteUnreferenced(keys);
      return existing;
    },
    async modelsWithStatus(statuses) {
      if (statuses.length === 0) return [];
      return (
        await db
          .selectFrom('models')
          .selectAll()
          .where(inList(engine, 'status', statuses))
          .orderBy('id')
          .execute()
      ).map(toModel);
    },
  };
}
