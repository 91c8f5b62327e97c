import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';

/**
 * One gateway per DATA_DIR when the records are the embedded SQLite database (attack 11 of
 * issue 9): two instances on one directory raced each other's blob sweeps, bootstrap clients and
 * default target. The second start is refused, naming the first.
 *
 * proper-lockfile's lock is a directory (atomic mkdir, on local and network file systems) whose
 * mtime the holder refreshes; a holder that stopped refreshing it for STALE_MS is gone. A holder on
 * this host whose process no longer runs (kill -9, a container restarted with the same pid) is
 * gone at once, so a restart never waits.
 */
const STALE_MS = 10_000;
const LOCK = 'instance.lock';
const OWNER = 'instance.owner.json';

interface Owner {
  pid: number;
  hostname: string;
  startedAt: string;
}

export class DataDirInUseError extends Error {}

export interface DataDirLock {
  release(): Promise<void>;
}

const readOwner = (dataDir: string): Owner | null => {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, OWNER), 'utf8')) as Owner;
  } catch {
    return null;
  }
};

const running = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Directories this process holds (a second gateway in one process, as tests run them, is refused too). */
const heldHere = new Set<string>();

/** A lock left by a process of this host that no longer runs, or whose pid is now ours (a container restarted as pid 1). */
const deadHolder = (dir: string, owner: Owner | null) =>
  !!owner && owner.hostname === os.hostname() && (owner.pid === process.pid ? !heldHere.has(dir) : !running(owner.pid));

export async function lockDataDir(dataDir: string, onCompromised: (err: Error) => void): Promise<DataDirLock> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const dir = fs.realpathSync(dataDir);
  const options = { lockfilePath: path.join(dataDir, LOCK), realpath: false, stale: STALE_MS, update: STALE_MS / 2, retries: 0, onCompromised };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dataDir, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    const owner = readOwner(dataDir);
    if (!deadHolder(dir, owner)) {
      const who = owner ? `process ${owner.pid} on ${owner.hostname}, started ${owner.startedAt}` : 'another process (starting now)';
      throw new DataDirInUseError(
        `DATA_DIR ${dataDir} is in use by another gateway (${who}): two instances cannot share one directory with the embedded database. ` +
          'Stop the other one, give this one its own DATA_DIR, or run several instances on PostgreSQL (DATABASE_URL).',
      );
    }
    fs.rmSync(path.join(dataDir, LOCK), { recursive: true, force: true });
    release = await lockfile.lock(dataDir, options);
  }
  const owner: Owner = { pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString() };
  fs.writeFileSync(path.join(dataDir, OWNER), JSON.stringify(owner), { mode: 0o600 });
  heldHere.add(dir);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      heldHere.delete(dir);
      fs.rmSync(path.join(dataDir, OWNER), { force: true });
      await release().catch(() => undefined);
    },
  };
}
