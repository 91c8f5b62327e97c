/**
 * API clients and the audit trail from the command line, on the gateway's own store (same
 * environment as the server: DATA_DIR, DATABASE_URL, JWT_SECRET...). Every action is audited
 * with actor "cli".
 *
 *   node scripts/clients.ts list
 *   node scripts/clients.ts create "read predict" [name]     scopes: read predict train admin, or all
 *   node scripts/clients.ts rotate <clientId>                 prints the new secret once
 *   node scripts/clients.ts revoke <clientId>
 *   node scripts/clients.ts audit [--since ISO] [--until ISO] [--actor id] [--action name]   NDJSON on stdout
 */
import os from 'node:os';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logging.ts';
import { createAuditService } from '../src/runtime/audit/audit.ts';
import { createAuth } from '../src/runtime/auth/auth.ts';
import { createStore } from '../src/runtime/store/index.ts';

const [command, ...rest] = process.argv.slice(2);
const flag = (name: string) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? (rest[i + 1] ?? null) : null;
};
const usage = () => {
  process.stderr.write(
    'usage: node scripts/clients.ts list | create "<scopes>" [name] | rotate <clientId> | revoke <clientId> | audit [--since ISO] [--until ISO] [--actor id] [--action name]\n',
  );
  process.exit(2);
};
if (!command) usage();

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`configuration error: ${err.message}\n`);
  process.exit(2);
}
const log = createLogger('warn');
const store = await createStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, s3: config.s3, sweepAtStart: false, log });
const auth = await createAuth({ store, config });
const audit = createAuditService({ store, log });
const audited = (action: string, ids: string[]) =>
  audit.record({
    actor: 'cli',
    actorKind: 'system',
    action,
    targetType: 'ApiClient',
    targetIds: ids,
    outcome: 'ok',
    detail: `by ${os.userInfo().username}`,
    source: 'cli',
  });

try {
  switch (command) {
    case 'list':
      for (const c of await auth.listClients()) process.stdout.write(`${JSON.stringify(c)}\n`);
      break;
    case 'create': {
      const { clientId, clientSecret } = await auth.createClient(rest[0] ?? usage(), rest[1] ?? null);
      await audited('createApiClient', [clientId]);
      process.stdout.write(`SPECTRO_CLIENT_ID=${clientId}\nSPECTRO_CLIENT_SECRET=${clientSecret}\n`);
      break;
    }
    case 'rotate': {
      const { client, clientSecret } = await auth.rotateSecret(rest[0] ?? usage());
      await audited('rotateApiClientSecret', [client.clientId]);
      process.stdout.write(`SPECTRO_CLIENT_ID=${client.clientId}\nSPECTRO_CLIENT_SECRET=${clientSecret}\n`);
      break;
    }
    case 'revoke': {
      const client = await auth.revokeClient(rest[0] ?? usage());
      await audited('revokeApiClient', [client.clientId]);
      process.stdout.write(`${JSON.stringify(client)}\n`);
      break;
    }
    case 'audit':
      for await (const e of audit.each({ since: flag('since'), until: flag('until'), actor: flag('actor'), action: flag('action') })) {
        process.stdout.write(`${JSON.stringify(e)}\n`);
      }
      break;
    default:
      usage();
  }
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await auth.close();
  await store.close();
}
