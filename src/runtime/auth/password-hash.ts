import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// Passwords of people (the dashboard); API client secrets are hashed by secret-hash.ts. Same
// stored format (`scrypt$N$r$p$salt$hash`).
const PARAMS = { N: 1 << 15, r: 8, p: 1 } as const;
const KEYLEN = 32;

const derive = (secret: string, salt: Buffer, o: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scrypt(secret, salt, KEYLEN, { ...o, maxmem: 256 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))));

/**
 * People choose passwords, which are far weaker than random client secrets: OWASP's scrypt floor
 * (N=2^17, r=8, p=1: 128 MiB and a few hundred ms per hash). node:crypto runs scrypt on the libuv
 * thread pool, so a sign-in never blocks the event loop.
 */
const PASSWORD_PARAMS = { N: 1 << 17, r: 8, p: 1 } as const;
/** The smallest cost PASSWORD_SCRYPT_LOG2_N may ask for (16 MiB); below, passwords fall to a GPU. */
export const MIN_PASSWORD_LOG2_N = 14;

/** `scrypt$N$r$p$salt$hash` (base64url), so the cost can be raised later without breaking old hashes. */
async function hashSecret(secret: string, params: { N: number; r: number; p: number } = PARAMS): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** `log2N`: PASSWORD_SCRYPT_LOG2_N (default 17); stored in each hash, so a change applies to new passwords only. */
export const hashPassword = (password: string, log2N = 17) =>
  hashSecret(password, { ...PASSWORD_PARAMS, N: 2 ** Math.max(MIN_PASSWORD_LOG2_N, Math.min(20, log2N)) });
/** A password hash no password matches, verified against for unknown names so both failures take as long. */
export const DUMMY_PASSWORD_HASH = `scrypt$${PASSWORD_PARAMS.N}$${PASSWORD_PARAMS.r}$${PASSWORD_PARAMS.p}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(KEYLEN).toString('base64url')}`;

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return false;
  // A stored hash is trusted input, but a damaged one must not ask for gigabytes.
  if (!(Number(n) <= 1 << 20 && Number(r) <= 16 && Number(p) <= 4)) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await derive(secret, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
