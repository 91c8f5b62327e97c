import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { deferred } from './realtime-helpers.ts';

/**
 * The gateway as a separate process, started the way an operator starts it (`npm start`, or the
 * Docker image's CMD), for what an in-process server cannot show: signals, kill -9, restarts.
 */
export const CLIENT = { id: 'ops-tester', secret: 'ops-tester-secret-0123456789' };

export interface GatewayProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  port: number;
  dataDir: string;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  /** Resolves when the spawned process has exited and its output is read to the end. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** A log line matching `test`, as soon as it is written. */
  logged(test: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  token(): Promise<string>;
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<{ data: T; errors?: any[] }>;
  /** kill -9 of the whole process group (the gateway and anything it started). */
  crash(): Promise<void>;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export const tempDataDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-proc-'));

/** Parent pid of every process, from /proc (Linux). */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may contain spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(Number(entry), ppid);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** `pid` and all its descendants alive now. */
export function processTree(pid: number): number[] {
  const ppid = parents();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of ppid) if (parent === tree[i]) tree.push(child);
  return tree.filter((p) => ppid.has(p));
}

export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    // A zombie still answers kill(0): it has exited, only its parent has not reaped it yet.
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Resolves once none of `pids` is running; rejects after `ms` naming those still alive. */
export async function allGone(pids: number[], ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0) return;
    if (Date.now() > end) throw new Error(`still running after ${ms} ms: ${left.join(', ')}`);
    // Not our children (npm's, or grandchildren): nothing to wait on but their disappearance.
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Starts `command` (default: `npm start`) in the repository with a data directory and port, in a
 * process group of its own, and resolves when it logs "listening".
 */
export async function spawnGateway(opts: { command?: string[]; dataDir?: string; env?: Record<string, string>; port?: number } = {}): Promise<GatewayProcess> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const port = opts.port ?? (await freePort());
  const [cmd, ...args] = opts.command ?? ['npm', 'start'];
  const child = spawn(cmd!, args, {
    cwd: path.resolve(import.meta.dirname, '..'),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      EXECUTION_PROVIDER: 'cpu',
      SPECTRO_CLIENT_ID: CLIENT.id,
      SPECTRO_CLIENT_SECRET: CLIENT.secret,
      NODE_ENV: 'production',
      // The first start hashes the admin's password: the cheapest cost allowed keeps starts quick.
      PASSWORD_SCRYPT_LOG2_N: '14',
      ...opts.env,
    },
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: { test: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  readline.createInterface({ input: child.stdout! }).on('line', (text) => {
    if (!text.startsWith('{')) return;
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text);
    } catch {
      return;
    }
    logs.push(line);
    for (const w of [...waiters]) {
      if (w.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const done = deferred<{ code: number | null; signal: NodeJS.Signals | null }>();
  // 'close', not 'exit': the last log lines may still be in the pipe when the process is gone.
  child.once('close', (code, signal) => done.resolve({ code, signal }));
  const logged = (test: (l: Record<string, unknown>) => boolean) => {
    const hit = logs.find(test);
    if (hit) return Promise.resolve(hit);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      waiters.push({ test, resolve });
      void done.promise.then(({ code, signal }) => reject(new Error(`gateway exited (${code ?? signal}) first:\n${stderr.slice(-2000)}`)));
    });
  };
  await logged((l) => l.msg === 'listening');
  const url = `http://127.0.0.1:${port}`;
  const gql = async (query: string, variables: Record<string, unknown> = {}, token?: string) => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return res.json() as Promise<any>;
  };
  return {
    child,
    pid: child.pid!,
    url,
    port,
    dataDir,
    logs,
    exited: done.promise,
    logged,
    async token() {
      const r = await gql(`mutation { token(clientId: "${CLIENT.id}", clientSecret: "${CLIENT.secret}") { accessToken } }`);
      return r.data.token.accessToken as string;
    },
    gql,
    async crash() {
      const tree = processTree(child.pid!);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
      await done.promise;
      await allGone(tree, 5000);
    },
  };
}
