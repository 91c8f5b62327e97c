import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.ts';
import type { TrainingLogger } from './training.ts';

/**
 * Instances of one deployment share the database: a job is owned through a lease in the settings
 * table (`training-lease:<model id>`), renewed every third of this while the job is queued or
 * running here, released when it ends or the service closes. A QUEUED/TRAINING model whose lease
 * is missing or expired belongs to a process that is gone: recovery (recovery.ts) takes it over.
 * (Two instances sweeping in the same instant could both take one over: the settings table has
 * no compare-and-set; the later READY simply wins. A shared job queue removes the need.)
 */
export const LEASE_MS = 30_000;

interface Lease {
  owner: string;
  until: number;
}
const leaseKey = (modelId: string) => `training-lease:${modelId}`;

export interface Leases {
  /** Takes or renews the lease of a job run here. */
  hold(modelId: string): Promise<void>;
  /** Gives it up (when this instance still owns it). */
  release(modelId: string): Promise<void>;
  /** True while some instance holds an unexpired lease. */
  live(modelId: string): Promise<boolean>;
  /** Stops renewing. */
  close(): void;
}

/** Leases of this instance, renewed for the jobs `held()` lists. */
export function createLeases(opts: { store: Store; leaseMs: number; log: TrainingLogger; held: () => Iterable<string> }): Leases {
  const { store, leaseMs, log } = opts;
  const owner = randomUUID();
  const read = async (id: string): Promise<Lease | null> => {
    const raw = await store.getSetting(leaseKey(id));
    try {
      return raw ? (JSON.parse(raw) as Lease) : null;
    } catch {
      return null;
    }
  };
  const hold = (id: string) => store.setSetting(leaseKey(id), JSON.stringify({ owner, until: Date.now() + leaseMs } satisfies Lease));
  const heartbeat = setInterval(
    () => {
      for (const id of opts.held()) hold(id).catch((err) => log.warn({ err, modelId: id }, 'training: lease not renewed'));
    },
    Math.max(50, Math.floor(leaseMs / 3)),
  );
  heartbeat.unref();

  return {
    hold,
    async release(id) {
      const lease = await read(id);
      if (lease?.owner === owner) await store.setSetting(leaseKey(id), JSON.stringify({ owner, until: 0 } satisfies Lease));
    },
    async live(id) {
      const lease = await read(id);
      return !!lease && lease.until > Date.now();
    },
    close: () => clearInterval(heartbeat),
  };
}
