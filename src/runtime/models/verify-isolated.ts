import { spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { badInput } from '../../errors.ts';
import type { InputSpec } from '../onnx/contract.ts';
import type { Provider } from '../onnx/session.ts';

export interface VerifyBudget {
  /** Wall-clock budget of one model's check (load, contract, one blank picture). */
  timeoutMs: number;
  /** Resident memory the checking process may reach. */
  memoryMb: number;
}

const CHILD = fileURLToPath(new URL('./verify-child.ts', import.meta.url));
// coreutils' timeout kills the check even when the gateway itself is killed meanwhile.
const TIMEOUT_BIN = ['/usr/bin/timeout', '/bin/timeout'].find((p) => fs.existsSync(p)) ?? null;
const POLL_MS = 50;

/** Checks still running, so that a shutdown can end them. */
const running = new Set<() => void>();

/** Kills every model check still running (shutdown). */
export function killModelChecks(): void {
  for (const kill of running) kill();
}

function rssBytes(pid: number): number | null {
  try {
    const pages = Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return pages * 4096;
  } catch {
    return null;
  }
}

/**
 * verifyOnnx (verify-onnx.ts) in a child process with a time and memory budget. Worker threads
 * cannot do this: onnxruntime's `run` is native code that a thread's termination never
 * interrupts (the thread, and the process's exit, would wait for it), so a hostile model is
 * checked where SIGKILL reaches it. Throws BAD_USER_INPUT naming the model and the budget it broke.
 */
export async function verifyOnnxIsolated(modelPath: string, spec: InputSpec, provider: Provider, label: string, budget: VerifyBudget): Promise<void> {
  const arg = JSON.stringify({ path: modelPath, spec, provider, label });
  const node = [process.execPath, `--max-old-space-size=${Math.max(64, Math.floor(budget.memoryMb / 2))}`, CHILD, arg];
  const cmd = TIMEOUT_BIN ? [TIMEOUT_BIN, '-s', 'KILL', String(Math.ceil(budget.timeoutMs / 1000) + 5), ...node] : node;
  // Its own process group: one kill ends `timeout` and the check under it.
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'ignore'], detached: true, env: { ...process.env, NODE_OPTIONS: '' } });
  let verdict: 'time' | 'memory' | null = null;
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  };
  running.add(kill);
  let checkedPid: number | null = null;
  const timer = setTimeout(() => {
    verdict ??= 'time';
    kill();
  }, budget.timeoutMs);
  const poll = setInterval(() => {
    const rss = checkedPid === null ? null : rssBytes(checkedPid);
    if (rss !== null && rss > budget.memoryMb * 1024 * 1024) {
      verdict ??= 'memory';
      kill();
    }
  }, POLL_MS);
  let result: { ok: boolean; message?: string } | null = null;
  const lines = readline.createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    try {
      const msg = JSON.parse(line) as { pid?: number; ok?: boolean; message?: string };
      if (typeof msg.pid === 'number') checkedPid = msg.pid;
      else if (typeof msg.ok === 'boolean') result = { ok: msg.ok, message: msg.message };
    } catch {
      // not ours (a library writing to stdout)
    }
  });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  clearTimeout(timer);
  clearInterval(poll);
  running.delete(kill);
  if (verdict === 'time') {
    throw badInput(`${label}: checking the model took longer than ${budget.timeoutMs} ms (MODEL_VERIFY_TIMEOUT_MS); refused`);
  }
  if (verdict === 'memory') {
    throw badInput(`${label}: checking the model used more than ${budget.memoryMb} MiB of memory (MODEL_VERIFY_MEMORY_MB); refused`);
  }
  const r = result as { ok: boolean; message?: string } | null;
  if (r?.ok) return;
  if (r) throw badInput(r.message ?? `${label}: the model was refused`);
  throw badInput(`${label}: the model's check ended abnormally (${exit.signal ?? `exit code ${exit.code}`}); refused`);
}
