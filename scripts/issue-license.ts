// Signs a license file (docs/license.md).
//
//   node scripts/issue-license.ts --key vendor-private.pem --licensee "ACME" \
//     --node <nodeHash|*> [--expires 2027-12-31T00:00:00Z | --days 365 | --perpetual] \
//     [--features a,b] [--out license.json]
//   node scripts/issue-license.ts --generate-keys <dir>   # writes private.pem and public.pem
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { signLicense } from '../src/runtime/license/license.ts';

const { values } = parseArgs({
  options: {
    key: { type: 'string' },
    licensee: { type: 'string' },
    node: { type: 'string' },
    expires: { type: 'string' },
    days: { type: 'string' },
    perpetual: { type: 'boolean', default: false },
    features: { type: 'string', default: '' },
    out: { type: 'string' },
    'generate-keys': { type: 'string' },
  },
});

const fail = (message: string): never => {
  process.stderr.write(`issue-license: ${message}\n`);
  process.exit(2);
};

if (values['generate-keys']) {
  const dir = values['generate-keys'];
  fs.mkdirSync(dir, { recursive: true });
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  fs.writeFileSync(path.join(dir, 'private.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'public.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  process.stdout.write(`wrote ${path.join(dir, 'private.pem')} and ${path.join(dir, 'public.pem')}\n`);
  process.exit(0);
}

if (!values.key) fail('--key <private key PEM file> is required');
if (!values.licensee) fail('--licensee is required');
if (!values.node) fail('--node <nodeHash from the gateway, or *> is required');
let expiresAt: string | null;
if (values.perpetual) expiresAt = null;
else if (values.expires) {
  const t = Date.parse(values.expires);
  if (Number.isNaN(t)) fail(`--expires ${values.expires} is not a date`);
  expiresAt = new Date(t).toISOString();
} else if (values.days) expiresAt = new Date(Date.now() + Number(values.days) * 86_400_000).toISOString();
else expiresAt = fail('one of --expires, --days or --perpetual is required');

const doc = signLicense(
  {
    licensee: values.licensee!,
    nodeHash: values.node!,
    expiresAt,
    features: values
      .features!.split(',')
      .map((f) => f.trim())
      .filter(Boolean),
    issuedAt: new Date().toISOString(),
  },
  fs.readFileSync(values.key!, 'utf8'),
);
const text = `${JSON.stringify(doc, null, 2)}\n`;
if (values.out) fs.writeFileSync(values.out, text);
else process.stdout.write(text);
