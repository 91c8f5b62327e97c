import fs from 'node:fs';
import net from 'node:net';
import type { Provider } from '../onnx/session.ts';
import { encodeFrame, FrameReader } from './frames.ts';
import { withDeadline } from './deadline.ts';
import { ThreadClient } from './thread-client.ts';
import type { FromSession, ToSession, WorkerData } from './worker-protocol.ts';

/**
 * The shared inference process (`npm run inference`, INFERENCE_SOCKET): one set of onnxruntime
 * sessions for every gateway process on the machine. Each gateway still parses HTTP and GraphQL,
 * decodes and batches on its own cores; only its session runs come here, over a Unix socket, in
 * the session protocol of its own session thread (worker-protocol.ts). What that buys on a GPU:
 * one CUDA context and one copy of each model instead of one per process, and batches gathered
 * across processes: runs of a model that arrive while it is busy go into its next run together
 * (up to `maxBatch` pictures), so N processes feed the GPU larger batches instead of taking turns.
 *
 * A model is loaded on a gateway's first `load` and released when no connected gateway holds it.
 */
export interface InferenceServerOptions {
  socketPath: string;
  provider: Provider;
  /** Most pictures in one merged run (default 64). */
  maxBatch?: number;
  /**
   * A run's deadline (INFERENCE_RUN_TIMEOUT_MS; 0: none). Past it the model is refused from then
   * on and its session thread given up; the other models go on on a fresh one.
   */
  runTimeoutMs?: number;
  log?: { info(obj: unknown, msg?: string): void; warn(obj: unknown, msg?: string): void };
}

export interface InferenceServerStats {
  connections: number;
  /** Models loaded by some connected gateway. */
  models: number;
  runs: number;
  /** Requests that went into those runs (more than `runs`: runs were merged). */
  requests: number;
  pictures: number;
  largestRun: number;
  /** Models refused after a run past its deadline (their thread was given up). */
  hungModels: number;
}

export interface InferenceServer {
  readonly socketPath: string;
  stats(): InferenceServerStats;
  close(): Promise<void>;
}

type Run = Extract<ToSession, { type: 'run' }> & { reply: (m: FromSession) => void };
type Load = Extract<ToSession, { type: 'load' }>;

export async function startInferenceServer(opts: InferenceServerOptions): Promise<InferenceServer> {
  // The sessions run on a thread of their own (the session worker a gateway uses for itself):
  // onnxruntime computes on the calling thread, and this one keeps reading the sockets meanwhile,
  // gathering the next run, and can give up a run that passes its deadline.
  const loadedOnThread = new Set<string>();
  const sessions = new ThreadClient<ToSession, FromSession>(
    new URL('./session-worker.ts', import.meta.url),
    { provider: opts.provider, decodeThreads: 0 } satisfies WorkerData,
    { onExit: () => loadedOnThread.clear() },
  );
  /** What each model was loaded with, to load it again on a fresh thread. */
  const loaded = new Map<string, Load>();
  /** Models whose run passed its deadline: refused until this process restarts. */
  const hung = new Map<string, string>();
  const runTimeoutMs = opts.runTimeoutMs ?? 0;
  const maxBatch = opts.maxBatch ?? 64;
  const stats = { runs: 0, requests: 0, pictures: 0, largestRun: 0 };
  /** Which connections hold each model (released when none does). */
  const holders = new Map<string, Set<net.Socket>>();
  const queues = new Map<string, Run[]>();
  const busy = new Set<string>();
  /** Loads and unloads of a model run one at a time, and never during its run. */
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };

  const release = (socket: net.Socket, modelId: string) => {
    const held = holders.get(modelId);
    if (!held) return Promise.resolve();
    held.delete(socket);
    if (held.size > 0) return Promise.resolve();
    holders.delete(modelId);
    loaded.delete(modelId);
    return serial(async () => {
      if (!loadedOnThread.delete(modelId)) return;
      await sessions.call({ type: 'unload', modelId });
    });
  };

  /** The model's shape, loading it on the current session thread first when it is not there. */
  const onThread = async (l: Omit<Load, 'id'>) => {
    const r = await sessions.call({ type: 'load', modelId: l.modelId, onnxPath: l.onnxPath, spec: l.spec });
    if (r.type !== 'loaded') throw new Error(`session worker answered ${r.type}`);
    loadedOnThread.add(l.modelId);
    return r.shape;
  };

  /** One session.run with the deadline; past it the thread is given up and the model refused. */
  const runOnThread = async (modelId: string, data: Float32Array, n: number) => {
    const refused = hung.get(modelId);
    if (refused) throw new Error(refused);
    if (!loadedOnThread.has(modelId)) {
      const l = loaded.get(modelId);
      if (!l) throw new Error(`model "${modelId}" is not loaded in the inference process`);
      await onThread(l);
    }
    const call = sessions.call({ type: 'run', modelId, data, n }, [data.buffer as ArrayBuffer]);
    const r = await withDeadline(call, runTimeoutMs, () => {
      // The message the gateways answer as UNAVAILABLE (DEADLINE_MESSAGE).
      const message = `model "${modelId}" ran past its deadline of ${runTimeoutMs} ms (INFERENCE_RUN_TIMEOUT_MS) in the shared inference process; it is refused until that process restarts`;
      hung.set(modelId, message);
      opts.log?.warn({ modelId, deadlineMs: runTimeoutMs }, 'inference: a run passed its deadline; the model is refused and its thread given up');
      sessions.abandon(`a run of model "${modelId}" passed its deadline`);
      return new Error(message);
    });
    if (r.type !== 'ran') throw new Error(`session worker answered ${r.type}`);
    return r;
  };

  /** Runs everything queued for the model, merged, then again while more arrived meanwhile. */
  const drain = async (modelId: string) => {
    if (busy.has(modelId)) return;
    busy.add(modelId);
    try {
      for (;;) {
        const queue = queues.get(modelId) ?? [];
        if (queue.length === 0) break;
        const batch: Run[] = [];
        let n = 0;
        while (queue.length > 0 && (batch.length === 0 || n + queue[0]!.n <= maxBatch)) {
          const r = queue.shift()!;
          batch.push(r);
          n += r.n;
        }
        await serial(() => runMerged(modelId, batch, n));
      }
    } finally {
      busy.delete(modelId);
    }
  };

  const runMerged = async (modelId: string, batch: Run[], n: number) => {
    try {
      let data = batch[0]!.data;
      if (batch.length > 1) {
        data = new Float32Array(batch.reduce((k, r) => k + r.data.length, 0));
        let at = 0;
        for (const r of batch) {
          data.set(r.data, at);
          at += r.data.length;
        }
      }
      const out = await runOnThread(modelId, data, n);
      stats.runs++;
      stats.requests += batch.length;
      stats.pictures += n;
      stats.largestRun = Math.max(stats.largestRun, n);
      const plane = out.mapWidth * out.mapHeight;
      let first = 0;
      for (const r of batch) {
        r.reply({
          type: 'ran',
          id: r.id,
          maps: out.maps.subarray(first * plane, (first + r.n) * plane),
          scores: out.scores.subarray(first, first + r.n),
          mapWidth: out.mapWidth,
          mapHeight: out.mapHeight,
          runMs: out.runMs,
        });
        first += r.n;
      }
    } catch (err) {
      for (const r of batch) r.reply({ type: 'error', id: r.id, message: (err as Error).message });
    }
  };

  const handle = async (socket: net.Socket, msg: ToSession, reply: (m: FromSession) => void) => {
    switch (msg.type) {
      case 'ping':
        return reply({ type: 'done', id: msg.id });
      case 'load': {
        const shape = await serial(() => onThread(msg));
        loaded.set(msg.modelId, msg);
        let held = holders.get(msg.modelId);
        if (!held) holders.set(msg.modelId, (held = new Set()));
        held.add(socket);
        return reply({ type: 'loaded', id: msg.id, shape });
      }
      case 'unload':
        await release(socket, msg.modelId);
        return reply({ type: 'done', id: msg.id });
      case 'run': {
        if (!loaded.has(msg.modelId)) throw new Error(`model "${msg.modelId}" is not loaded in the inference process`);
        let queue = queues.get(msg.modelId);
        if (!queue) queues.set(msg.modelId, (queue = []));
        queue.push({ ...msg, reply });
        void drain(msg.modelId);
        return;
      }
    }
  };

  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const reader = new FrameReader();
    const reply = (m: FromSession) => {
      if (socket.destroyed) return;
      for (const part of encodeFrame(m)) socket.write(part);
    };
    socket.on('data', (chunk: Buffer) => {
      let messages: ToSession[];
      try {
        messages = reader.push(chunk) as ToSession[];
      } catch (err) {
        opts.log?.warn({ err }, 'inference: a connection sent a malformed frame; closed');
        socket.destroy();
        return;
      }
      for (const msg of messages) {
        handle(socket, msg, reply).catch((err: Error & { contract?: boolean }) =>
          reply({ type: 'error', id: msg.id, message: err?.message ?? String(err), contract: err?.contract === true }),
        );
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      for (const modelId of [...holders.keys()]) void release(socket, modelId);
    });
  });
  // A socket file left by a process that is gone: removed (a live one refuses the connect below).
  if (fs.existsSync(opts.socketPath)) {
    const live = await new Promise<boolean>((resolve) => {
      const probe = net.createConnection(opts.socketPath);
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (live) throw new Error(`another inference process is serving ${opts.socketPath}`);
    fs.rmSync(opts.socketPath, { force: true });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Only this machine's user: the socket runs models on whatever tensors it is sent.
  fs.chmodSync(opts.socketPath, 0o600);
  opts.log?.info({ socket: opts.socketPath, provider: opts.provider, maxBatch }, 'inference: serving');

  return {
    socketPath: opts.socketPath,
    stats: () => ({ connections: sockets.size, models: loaded.size, hungModels: hung.size, ...stats }),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await sessions.close();
    },
  };
}
