import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { BlobGuard } from '../blobs.ts';
import type { Database } from '../db/schema.ts';
import { inList, type Engine } from '../db/sql.ts';
import { chunks } from './context.ts';

/** A deletion that ran this long without ending is taken to be dead (its instance died). */
const SWEEP_LEASE_MS = 60_000;
/** How often a put waiting for a deletion of its key looks again. */
const WAIT_STEP_MS = 50;

/**
 * Which blobs may be removed, decided in the database that every instance shares, one row per key
 * in `blob_claims`. The protocol:
 *
 * - A request that stores a blob first holds its key (`hold`: an upsert, count +1, lapsing after
 *   `holdMs`), then writes the bytes or finds them stored, then writes the row that names the key,
 *   then releases the hold. A write that no row will name (a download) holds the key only while it
 *   writes or touches the bytes: their fresh age spares them from sweeps for the grace period.
 * - A deletion (`condemn`) marks the keys it may remove, in one transaction: the upsert sets the
 *   mark only where nobody holds or keeps the key, and the reference check that follows sees every
 *   row committed before it. It then removes the objects and clears its marks (`settle`).
 * - Both sides write the same row of a key, so the database orders them: a hold committed first
 *   stops the mark; a mark committed first makes the hold wait until the deletion has ended, after
 *   which the request writes the bytes again. A deletion whose instance died is taken to be over
 *   after `leaseMs`; a deletion gives up rather than remove anything after half of that.
 */
export function blobClaims(db: Kysely<Database>, engine: Engine, now: () => number = Date.now): BlobGuard {
  const greatest = engine === 'postgres' ? 'greatest' : 'max';
  const G = sql.raw(greatest);

  const markOf = async (key: string) => (await db.selectFrom('blob_claims').select(['sweep', 'sweep_at']).where('key', '=', key).executeTakeFirst()) ?? null;
  const live = (m: { sweep: string | null; sweep_at: number | null } | null, t: number) => !!m?.sweep && (m.sweep_at ?? 0) > t - SWEEP_LEASE_MS;

  return {
    leaseMs: SWEEP_LEASE_MS,

    async hold(key, holdMs) {
      const t = now();
      const { rows } = await sql<{ sweep: string | null; sweep_at: number | null }>`
        insert into blob_claims (key, holds, held_until) values (${key}, 1, ${t + holdMs})
        on conflict (key) do update set
          holds = case when blob_claims.held_until < ${t} then 1 else blob_claims.holds + 1 end,
          held_until = ${G}(blob_claims.held_until, excluded.held_until)
        returning sweep, sweep_at`.execute(db);
      let mark = rows[0] ?? null;
      // A deletion of this key is under way: once it ends, the caller writes the bytes again.
      while (live(mark, now())) {
        await new Promise((r) => setTimeout(r, WAIT_STEP_MS));
        mark = await markOf(key);
      }
    },

    async release(keys) {
      if (keys.length === 0) return;
      const counts = new Map<string, number>();
      for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
      for (const [n, group] of groupBy(counts)) {
        await db
          .updateTable('blob_claims')
          .set((eb) => ({ holds: eb('holds', '-', n) }))
          .where(inList(engine, 'key', group))
          .execute();
      }
      await db
        .deleteFrom('blob_claims')
        .where(inList(engine, 'key', [...counts.keys()]))
        .where('holds', '<=', 0)
        .where('sweep', 'is', null)
        .execute();
    },

    async condemn(keys) {
      const token = randomUUID();
      const sorted = [...new Set(keys)].sort();
      const marked: string[] = [];
      let at = now();
      for (const chunk of chunks(sorted)) {
        at = now();
        const got = await db.transaction().execute(async (trx) => {
          // Keys in sorted order: two deletions marking overlapping sets lock rows in one order.
          const values = sql.join(chunk.map((k) => sql`(${k}, 0, 0, ${token}, ${at})`));
          const { rows } = await sql<{ key: string }>`
            insert into blob_claims (key, holds, held_until, sweep, sweep_at) values ${values}
            on conflict (key) do update set sweep = excluded.sweep, sweep_at = excluded.sweep_at
            where (blob_claims.holds <= 0 or blob_claims.held_until < ${at})
              and (blob_claims.sweep is null or blob_claims.sweep_at < ${at - SWEEP_LEASE_MS})
            returning key`.execute(trx);
          const mine = rows.map((r) => r.key);
          if (mine.length === 0) return [];
          // After the marks: every row naming a key that committed before them is seen here.
          const { rows: named } = await sql<{ k: string }>`
            select blob as k from images where ${inList(engine, 'blob', mine)}
            union select onnx_blob from models where ${inList(engine, 'onnx_blob', mine)}
            union select image_blob from models where ${inList(engine, 'image_blob', mine)}`.execute(trx);
          const keep = named.map((r) => r.k);
          if (keep.length > 0) await unmark(trx, keep, token);
          const kept = new Set(keep);
          return mine.filter((k) => !kept.has(k));
        });
        marked.push(...got);
      }
      return { keys: marked, token, at };
    },

    async settle(keys, token) {
      if (keys.length === 0) return;
      await unmark(db, keys, token);
    },

    async tidy() {
      const t = now();
      const r = await db
        .deleteFrom('blob_claims')
        .where((eb) => eb.or([eb('holds', '<=', 0), eb('held_until', '<', t)]))
        .where((eb) => eb.or([eb('sweep', 'is', null), eb('sweep_at', '<', t - SWEEP_LEASE_MS)]))
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };

  /** Clears the marks of `token` on `keys`; rows nobody holds or keeps any more go. */
  async function unmark(q: Kysely<Database>, keys: readonly string[], token: string) {
    const t = now();
    await q
      .deleteFrom('blob_claims')
      .where(inList(engine, 'key', keys))
      .where('sweep', '=', token)
      .where((eb) => eb.or([eb('holds', '<=', 0), eb('held_until', '<', t)]))
      .execute();
    await q
      .updateTable('blob_claims')
      .set({ sweep: null, sweep_at: null })
      .where(inList(engine, 'key', keys))
      .where('sweep', '=', token)
      .execute();
  }
}

/** Keys grouped by how many holds each drops (one UPDATE per distinct count). */
function groupBy(counts: Map<string, number>): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [k, n] of counts) out.set(n, [...(out.get(n) ?? []), k]);
  return out;
}
