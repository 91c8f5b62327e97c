import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger } from './logging.ts';
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
  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) {
      log.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    log.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  log.fatal({ err }, 'failed to start');
  process.exit(1);
}
