import { ConfigError, loadConfig, type Config } from './config.ts';
import { pino } from 'pino';
import { createLogger } from './logging.ts';
import { startTracing } from './observability/tracing.ts';
import { createServer } from './server.ts';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`configuration error: ${err.message}\n`);
  process.exit(2);
}
const log = createLogger(config.logLevel);
// Before the server: the engines' spans go through the global provider registered here.
const tracing = startTracing(config, log);

try {
  const server = await createServer(config, { log });
  const { url } = await server.start();
  if (server.bootstrapCredentials) {
    // Printed once, on the first start of an empty installation; only its hash is stored.
    const { clientId, clientSecret } = server.bootstrapCredentials;
    process.stdout.write(
      `\nA client was created (scope "all"). Save the secret now, it is not shown again:\n` +
        `  SPECTRO_CLIENT_ID=${clientId}\n  SPECTRO_CLIENT_SECRET=${clientSecret}\n` +
        `Get a token:\n  curl -s -X POST ${url}/api/auth/token -H 'content-type: application/json' \\\n` +
        `    -d '{"grant_type":"client_credentials","client_id":"${clientId}","client_secret":"${clientSecret}"}'\n\n`,
    );
  }
  if (server.bootstrapAdmin) {
    const { name, password } = server.bootstrapAdmin;
    process.stdout.write(
      `\nAn admin was created for the dashboard (${url}/). Save the password now, it is not shown again:\n` +
        `  name: ${name}\n  password: ${password}\n` +
        `Add people with: npm run user -- add <name> --role engineer\n\n`,
    );
  }
  // This process is the one that receives the signals: `npm start` execs it (no shell in
  // between) and forwards them, the Docker image runs it as PID 1 (README "Operations").
  let first: { signal: string; at: number } | null = null;
  const shutdown = (signal: string) => {
    if (first) {
      // Ctrl-C under `npm start` arrives twice: from the terminal (to the whole process group)
      // and forwarded by npm. Only a later one means "stop now".
      if (signal === first.signal && Date.now() - first.at < 1000) return;
      log.warn({ signal }, 'second signal: exiting at once');
      hardExit(1);
    }
    first = { signal, at: Date.now() };
    const { drainTimeoutMs } = config.ops;
    log.info({ signal, drainTimeoutMs }, 'shutting down');
    // Requests get DRAIN_TIMEOUT_MS; closing the engines after them has a few seconds more.
    setTimeout(() => {
      log.error({ drainTimeoutMs }, 'shutdown did not finish in time: exiting');
      hardExit(1);
    }, drainTimeoutMs + 5000).unref();
    server
      .stop()
      .then(() => tracing?.shutdown())
      .then(
        () => hardExit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  /**
   * process.exit joins every thread, and one stuck in a model's native run (given up at its
   * deadline, INFERENCE_RUN_TIMEOUT_MS) never ends: then only SIGKILL ends the process.
   */
  const hardExit = (code: number) => {
    if ((server.services.inference.stuckThreads ?? 0) > 0) {
      log.warn({ code }, 'exiting with SIGKILL: an inference thread is stuck in a model run');
      // pino writes asynchronously: the lines go out before the kill.
      (log as unknown as Record<symbol, { flushSync?: () => void }>)[pino.symbols.streamSym]?.flushSync?.();
      process.kill(process.pid, 'SIGKILL');
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  log.fatal({ err }, 'failed to start');
  process.exit(1);
}
