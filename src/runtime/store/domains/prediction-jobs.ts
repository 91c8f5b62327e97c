import { sql } from 'kysely';
import { notFound } from '../../../errors.ts';
import { inList } from '../db/sql.ts';
import { toAssessment, toPredictionJob } from '../rows.ts';
import type { PredictionJobStore } from '../store.ts';
import type { PredictionJobCounts } from '../types.ts';
import { byIds } from './by-ids.ts';
import type { StoreContext } from './context.ts';

/** Errors kept per job; the count goes on. */
const MAX_ERRORS = 100;

export function predictionJobQueries(ctx: StoreContext): PredictionJobStore {
  const { db, engine } = ctx;
  return {
    async createPredictionJob(job) {
      const t = ctx.iso();
      const row = await db
        .insertInto('prediction_jobs')
        .values({
          id: job.id,
          model_id: job.modelId,
          model_version: job.modelVersion,
          status: 'QUEUED',
          item_ids: JSON.stringify(job.itemIds),
          total: job.itemIds.length,
          errors: '[]',
          error_count: 0,
          attempts: 0,
          status_text: null,
          created_at: t,
          updated_at: t,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toPredictionJob(row);
    },
    predictionJobsByIds: byIds(ctx, 'prediction_jobs', toPredictionJob),
    async predictionJobsWithStatus(statuses) {
      if (statuses.length === 0) return [];
      return (
        await db
          .selectFrom('prediction_jobs')
          .selectAll()
          .where(inList(engine, 'status', statuses))
          .orderBy('created_at')
          .execute()
      ).map(toPredictionJob);
    },
    async updatePredictionJob(id, patch) {
      const row = await ctx.tx(async (trx) => {
        const cur = await trx.selectFrom('prediction_jobs').select(['errors', 'error_count', 'attempts']).where('id', '=', id).executeTakeFirst();
        if (!cur) return null;
        const set: Record<string, unknown> = { updated_at: ctx.iso() };
        if (patch.status !== undefined) set.status = patch.status;
        if (patch.statusText !== undefined) set.status_text = patch.statusText;
        if (patch.started) {
          set.started_at = ctx.iso();
          set.attempts = cur.attempts + 1;
        }
        if (patch.finished) set.finished_at = ctx.iso();
        if (patch.errors?.length) {
          const errors = typeof cur.errors === 'string' ? JSON.parse(cur.errors) : (cur.errors as unknown[]);
          set.errors = JSON.stringify([...errors, ...patch.errors].slice(0, MAX_ERRORS));
          set.error_count = cur.error_count + patch.errors.length;
        }
        return trx.updateTable('prediction_jobs').set(set).where('id', '=', id).returningAll().executeTakeFirst();
      });
      if (!row) throw notFound('PredictionJob', id);
      return toPredictionJob(row);
    },
    async predictionJobCounts(ids) {
      const out = new Map<string, PredictionJobCounts>(ids.map((id) => [id, { judged: 0, good: 0, bad: 0 }]));
      if (ids.length === 0) return out;
      const { rows } = await sql<{ job_id: string; result: string; n: number | string }>`
        select job_id, result, count(*) as n from assessments where ${inList(engine, 'job_id', ids)} group by job_id, result`.execute(db);
      for (const r of rows) {
        const c = out.get(r.job_id)!;
        const n = Number(r.n);
        c.judged += n;
        if (r.result === 'GOOD') c.good += n;
        else c.bad += n;
      }
      return out;
    },
    async assessmentsByJob(jobId) {
      return (await db.selectFrom('assessments').selectAll().where('job_id', '=', jobId).orderBy('id').execute()).map(toAssessment);
    },
    async judgedItemIds(jobId) {
      const rows = await db.selectFrom('assessments').select('item_id').where('job_id', '=', jobId).execute();
      return new Set(rows.map((r) => r.item_id));
    },
  };
}
