import fs from 'node:fs';
import type { Services } from '../context.ts';
import type { AdmissionState } from '../runtime/inference/inference.ts';

export type CheckState = 'up' | 'down';

export interface Readiness {
  ready: boolean;
  checks: { store: CheckState; pubsub: CheckState; inference: CheckState; disk: CheckState };
  disk: { freeBytes: number | null; minFreeBytes: number };
  /** Each loaded model's admission queue (detail; a full queue refuses requests, it does not make the instance unready). */
  predictQueues: Record<string, AdmissionState>;
}

/** `check()` within `ms`, else false: a dependency that hangs counts as down, the probe answers in time. */
async function within(ms: number, check: () => Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([check().catch(() => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Free bytes for an unprivileged writer on DATA_DIR's file system; null when it cannot be read. */
async function freeBytes(dir: string): Promise<number | null> {
  try {
    const s = await fs.promises.statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/**
 * Can this instance take traffic? The store answers, pub/sub delivers and answers a ping (a
 * frozen Redis keeps its sockets open, so only an answer counts), both inference threads answer,
 * and DATA_DIR has at least MIN_FREE_DISK_BYTES free. Every check runs at once, each bounded by
 * READINESS_TIMEOUT_MS.
 */
export async function checkReadiness(services: Pick<Services, 'store' | 'pubsub' | 'inference' | 'config'>): Promise<Readiness> {
  const { readinessTimeoutMs: ms, minFreeDiskBytes } = services.config.ops;
  const [store, pubsub, inference, free] = await Promise.all([
    within(ms, () => services.store.ping()),
    within(ms, async () => services.pubsub.health() === 'up' && (await services.pubsub.ping(ms))),
    within(ms, () => services.inference.ping(ms)),
    freeBytes(services.config.dataDir),
  ]);
  const disk = free !== null && free >= minFreeDiskBytes;
  const state = (ok: boolean): CheckState => (ok ? 'up' : 'down');
  return {
    ready: store && pubsub && inference && disk,
    checks: { store: state(store), pubsub: state(pubsub), inference: state(inference), disk: state(disk) },
    disk: { freeBytes: free, minFreeBytes: minFreeDiskBytes },
    predictQueues: services.inference.admission(),
  };
}
