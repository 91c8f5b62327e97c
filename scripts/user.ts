/**
 * People who sign in to the dashboard, from the command line (the same store the gateway uses:
 * DATA_DIR / DATABASE_URL as for `npm start`):
 *
 *   npm run user -- add <name> --role engineer [--password-stdin]
 *   npm run user -- list
 *   npm run user -- role <name> <viewer|operator|engineer|admin>
 *   npm run user -- password <name> [--password-stdin]
 *   npm run user -- disable|enable|sign-out|remove <name>
 *
 * Without --password-stdin a password is generated and printed once. Exit code 2 for a usage
 * error, 1 when the store refuses (a taken name, the last admin…).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { AppError } from '../src/errors.ts';
import { createAccounts } from '../src/runtime/auth/accounts.ts';
import { createAuth } from '../src/runtime/auth/auth.ts';
import { ROLES } from '../src/runtime/auth/scopes.ts';
import { createStore } from '../src/runtime/store/index.ts';

const USAGE = `usage: npm run user -- <command>
  add <name> --role <${ROLES.join('|')}> [--password-stdin]
  list
  role <name> <${ROLES.join('|')}>
  password <name> [--password-stdin]
  disable <name> | enable <name> | sign-out <name> | remove <name>`;

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { role: { type: 'string' }, 'password-stdin': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    return usage((err as Error).message);
  }
})();
const [command, name, extra] = positionals;
if (values.help || !command) usage();

const config = loadConfig();
const store = await createStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, s3: config.s3, sweepAtStart: false });
try {
  const auth = await createAuth({ store, config });
  const accounts = createAccounts({ store, auth, config });
  const user = async () => {
    if (!name) usage(`${command} needs a name`);
    return (await store.userByName(name)) ?? (process.stderr.write(`no user named "${name}"\n`), process.exit(1));
  };
  const password = async () => (values['password-stdin'] ? await readStdin() : null);
  switch (command) {
    case 'add': {
      if (!name) usage('add needs a name');
      if (!values.role) usage(`add needs --role (${ROLES.join(', ')})`);
      const made = await accounts.createUser({ name, role: values.role, password: await password() });
      process.stdout.write(`added ${made.user.name} (${made.user.role})\n`);
      if (made.password) process.stdout.write(`password (shown once): ${made.password}\n`);
      break;
    }
    case 'list':
      for (const u of await accounts.listUsers()) {
        const sessions = (await store.sessionsOfUser(u.id)).length;
        process.stdout.write(`${u.name}\t${u.role}${u.disabled ? '\tdisabled' : ''}\t${sessions} session${sessions === 1 ? '' : 's'}\n`);
      }
      break;
    case 'role':
      if (!extra) usage(`role needs a role (${ROLES.join(', ')})`);
      await accounts.updateUser((await user()).id, { role: extra });
      process.stdout.write(`${name} is now ${extra} (signed out everywhere)\n`);
      break;
    case 'password': {
      const u = await user();
      const given = await password();
      const next = given ?? (await import('node:crypto')).randomBytes(12).toString('base64url');
      await accounts.updateUser(u.id, { password: next });
      process.stdout.write(given ? `password of ${name} changed (signed out everywhere)\n` : `new password of ${name} (shown once): ${next}\n`);
      break;
    }
    case 'disable':
    case 'enable':
      await accounts.updateUser((await user()).id, { disabled: command === 'disable' });
      process.stdout.write(`${name} ${command}d\n`);
      break;
    case 'sign-out':
      process.stdout.write(`${await accounts.revokeSessions((await user()).id)} session(s) of ${name} ended\n`);
      break;
    case 'remove':
      await accounts.deleteUser((await user()).id);
      process.stdout.write(`${name} removed\n`);
      break;
    default:
      usage(`unknown command "${command}"`);
  }
} catch (err) {
  if (!(err instanceof AppError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 1;
} finally {
  await store.close();
}
