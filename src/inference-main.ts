import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logging.ts';
import { startInferenceServer } from './runtime/inference/inference-server.ts';
import { chooseProvider } from './runtime/inference/sessions.ts';

/**
 * `npm run inference`: the shared inference process of a machine (docs/operations.md "Several
 * processes on one machine"). Serves INFERENCE_SOCKET with EXECUTION_PROVIDER's sessions; every
 * gateway process started with the same INFERENCE_SOCKET runs its models here.
 */
let socketPath: string;
let requested: 'cpu' | 'cuda' | 'auto';
let maxBatch: number;
let runTimeoutMs: number;
let logLevel: string;
try {
  const config = loadConfig();
  if (!config.inferenceSocket) throw new ConfigError('INFERENCE_SOCKET must name the Unix socket to serve (e.g. /run/spectro/inference.sock)');
  socketPath = config.inferenceSocket;
  requested = config.executionProvider;
  maxBatch = Math.max(1, Number(process.env.INFERENCE_MAX_BATCH) || 64);
  runTimeoutMs = config.security.inferenceRunTimeoutMs;
  logLevel = config.logLevel;
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`configuration error: ${err.message}\n`);
  process.exit(2);
}
const log = createLogger(logLevel);
const provider = await chooseProvider(requested, log);
const server = await startInferenceServer({ socketPath, provider, maxBatch, runTimeoutMs, log }).catch((err: Error) => {
  // Another inference process on the socket, a directory that does not exist: said, not a stack.
  log.error({ socket: socketPath }, `inference: cannot serve: ${err.message}`);
  process.exit(1);
});
// `npm run inference` execs this process: the signals arrive here.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'inference: shutting down');
    // process.exit joins every thread, and one given up in a model's endless run never ends.
    const exit = (code: number) => (server.stats().hungModels > 0 ? process.kill(process.pid, 'SIGKILL') : process.exit(code));
    server.close().then(
      () => exit(0),
      () => exit(1),
    );
  });
}
