import type { Kysely, OnConflictBuilder, Selectable } from 'kysely';
import { notFound } from '../../../errors.ts';
import { preparedInsert } from '../db/prepared.ts';
import type { AssessmentsTable, Database } from '../db/schema.ts';
import { compilerOf, inList, nextKeys, perEngine, type Engine } from '../db/sql.ts';
import { newId } from '../ids.ts';
import { toAnnotation, toAssessment } from '../rows.ts';
import type { AssessmentStore, NewAnnotation } from '../store.ts';
import type { AnnotationRecord, AssessmentRecord } from '../types.ts';
import { requireAll } from './checks.ts';
import { chunks, type StoreContext } from './context.ts';
import { byIds } from './by-ids.ts';
import { insertImages, requireBlobs } from './images.ts';

/** The boxes of many owners: their integer keys in one read, the rows in one INSERT per chunk. */
async function insertAnnotations(
  trx: Kysely<Database>,
  engine: Engine,
  column: 'item_id' | 'assessment_id',
  owned: readonly { ownerId: string; annotations: readonly NewAnnotation[] }[],
  createdAt: string,
): Promise<AnnotationRecord[]> {
  const total = owned.reduce((n, o) => n + o.annotations.length, 0);
  const keys = await nextKeys(trx, engine, 'annotations', total);
  let i = 0;
  const rows = owned.flatMap(({ ownerId, annotations }) =>
    annotations.map((a) => ({
      id: newId(),
      key: keys[i++]!,
      item_id: column === 'item_id' ? ownerId : null,
      assessment_id: column === 'assessment_id' ? ownerId : null,
      x_min: a.xMin,
      x_max: a.xMax,
      y_min: a.yMin,
      y_max: a.yMax,
      label: a.label,
      notes: a.notes,
      score: a.score,
      created_at: createdAt,
    })),
  );
  const insert = annotationInserts(engine);
  for (const chunk of chunks(rows)) await insert(trx, chunk);
  return rows.map(toAnnotation);
}

export function assessmentQueries(ctx: StoreContext): AssessmentStore {
  const { db, engine, blobs } = ctx;
  return {
    async annotationsByOwners(kind, ownerIds) {
      if (ownerIds.length === 0) return [];
      const column = kind === 'user' ? 'item_id' : 'assessment_id';
      const rows = await db
        .selectFrom('annotations')
        .selectAll()
        .where(inList(engine, column, ownerIds))
        .orderBy(column)
        .orderBy('id')
        .execute();
      return rows.map(toAnnotation);
    },
    async setUserAnnotations(itemId, annotations) {
      return ctx.tx(async (trx) => {
        const item = await trx.selectFrom('items').select('id').where('id', '=', itemId).executeTakeFirst();
        if (!item) throw notFound('Item', itemId);
        await trx.deleteFrom('annotations').where('item_id', '=', itemId).execute();
        return insertAnnotations(trx, engine, 'item_id', [{ ownerId: itemId, annotations }], ctx.iso());
      });
    },
    async assessmentsByItemIds(itemIds, modelId) {
      if (itemIds.length === 0) return [];
      const rows = await db
        .selectFrom('assessments')
        .selectAll()
        .where(inList(engine, 'item_id', itemIds))
        .$if(!!modelId, (q) => q.where('model_id', '=', modelId!))
        .orderBy('id', 'desc')
        .execute();
      return rows.map(toAssessment);
    },
    assessmentsByIds: byIds(ctx, 'assessments', toAssessment),
    async assessmentsByModelIds(modelIds) {
      if (modelIds.length === 0) return [];
      const rows = await db
        .selectFrom('assessments')
        .selectAll()
        .where(inList(engine, 'model_id', modelIds))
        .orderBy('id', 'desc')
        .execute();
      return rows.map(toAssessment);
    },
    async addAssessments(list) {
      if (list.length === 0) return [];
      const images = list.flatMap((a) => a.images);
      await requireBlobs(blobs, images, db, engine);
      const created = await ctx.tx(async (trx) => {
        await requireAll(trx, engine, 'items', 'Item', [...new Set(list.map((a) => a.itemId))]);
        await requireAll(trx, engine, 'models', 'Model', [...new Set(list.map((a) => a.modelId))]);
        const t = ctx.iso();
        const rows = list.map((a) => ({
          id: newId(),
          item_id: a.itemId,
          model_id: a.modelId,
          result: a.result,
          label: a.label,
          score: a.score,
          threshold: a.threshold,
          detected_objects: a.detectedObjects,
          detection_accuracy: a.detectionAccuracy,
          job_id: a.jobId ?? null,
          created_at: t,
        }));
        const byId = new Map<string, AssessmentRecord>();
        for (const chunk of chunks(rows)) {
          // A job's second assessment of an item (a retried run that judged it again) is dropped.
          const inserted = await assessmentInserts(engine)(trx, chunk);
          for (const r of inserted) byId.set(r.id, toAssessment(r));
        }
        const stored = list.map((a, i) => ({ a, row: rows[i]! })).filter(({ row }) => byId.has(row.id));
        const owned = stored.map(({ a, row }) => ({ ownerId: row.id, annotations: a.annotations, images: a.images }));
        await insertAnnotations(trx, engine, 'assessment_id', owned, t);
        await insertImages(trx, engine, 'assessment_id', owned, t);
        const out: AssessmentRecord[] = [];
        for (const row of rows) {
          const mine = byId.get(row.id);
          if (mine) out.push(mine);
          else {
            const existing = await trx
              .selectFrom('assessments')
              .selectAll()
              .where('job_id', '=', row.job_id)
              .where('item_id', '=', row.item_id)
              .executeTakeFirstOrThrow();
            out.push(toAssessment(existing));
          }
        }
        return out;
      });
      blobs.release(images.map((img) => img.blob));
      return created;
    },
  };
}

/** The inserts of a predict's commit, prepared once per engine (prepared.ts). */
const annotationInserts = perEngine((engine) => preparedInsert(compilerOf(engine), 'annotations'));
const assessmentInserts = perEngine((engine) =>
  // A job's second assessment of an item (a retried run that judged it again) is dropped.
  preparedInsert<Selectable<AssessmentsTable>>(compilerOf(engine), 'assessments', (q) =>
    q.onConflict((oc: OnConflictBuilder<Database, 'assessments'>) => oc.columns(['job_id', 'item_id']).doNothing()).returningAll(),
  ),
);
