import type { Store } from '../store/store.ts';
import type { JobRunner } from './jobs.ts';

interface SweepLogger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
}

/** Staged files of this instance older than this are leftovers of a crashed request. */
const STAGING_MAX_AGE_MS = 60 * 60_000;

/**
 * The periodic sweeps. Blobs no record names are removed by the `maintenance` queue's `sweep-blobs`
 * job every `intervalMs`, on one worker at a time where the queue is shared (the blob guard makes
 * a sweep safe next to uploads on any instance); blobs younger than `minAgeMs` stay (downloads that
 * no row names). Staged uploads are local to each instance, so every instance, API ones too, clears
 * its own on a timer.
 */
export function scheduleSweeps(opts: { jobs: JobRunner; store: Store; runs: boolean; intervalMs: number; minAgeMs: number; log: SweepLogger }) {
  const { store, log } = opts;
  let timer: NodeJS.Timeout | null = null;
  if (opts.intervalMs > 0) {
    timer = setInterval(() => {
      store.blobs.cleanStaging(STAGING_MAX_AGE_MS).catch((err) => log.warn({ err }, 'sweep: staged files not cleared'));
    }, opts.intervalMs);
    timer.unref();
  }
  const queue = opts.jobs.queue<{ minAgeMs: number }, number>(
    'maintenance',
    opts.runs
      ? async (job) => {
          const swept = await store.sweepBlobs(job.data.minAgeMs);
          if (swept) log.info({ swept }, 'sweep: removed unreferenced blobs');
          return swept;
        }
      : null,
    { concurrency: 1 },
  );
  return {
    queue,
    /** Starts the schedule (workers; the first sweep runs at once). */
    async start() {
      if (opts.runs && opts.intervalMs > 0) await queue.every('sweep-blobs', opts.intervalMs, { minAgeMs: opts.minAgeMs });
    },
    async close() {
      if (timer) clearInterval(timer);
    },
  };
}
