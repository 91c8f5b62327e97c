import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Piscina } from 'piscina';
import { AppError, ErrorCode } from '../../errors.ts';

// OWASP's scrypt floor (N=2^17, r=8, p=1) costs ~128 MiB and ~0.3 s per token request; 2^15 keeps
// token issuance fast on small machines while staying far above brute-force speed for random secrets.
const PARAMS = { N: 1 << 15, r: 8, p: 1 } as const;
const KEYLEN = 32;

/** A hash no secret matches; verified against for unknown clients so both failures take as long. */
export const DUMMY_HASH = `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(KEYLEN).toString('base64url')}`;

export interface SecretHasher {
  /** `scrypt$N$r$p$salt$hash` (base64url), so the cost can be raised later without breaking old hashes. */
  hash(secret: string): Promise<string>;
  verify(secret: string, stored: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Client secrets are hashed on threads of their own (`threads`, default 1), never on libuv's pool:
 * 16 concurrent garbage token requests used to hold all four of its threads and stall every
 * upload behind them. At most `queue` hashes wait; past that the caller gets RATE_LIMITED (429).
 */
export function createSecretHasher(opts: { threads?: number; queue?: number } = {}): SecretHasher {
  const pool = new Piscina({
    filename: new URL('./hash-worker.ts', import.meta.url).href,
    minThreads: 0,
    maxThreads: Math.max(1, opts.threads ?? 1),
    maxQueue: Math.max(0, opts.queue ?? 8),
    idleTimeout: 30_000,
    concurrentTasksPerWorker: 1,
  });
  const derive = async (secret: string, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Buffer> => {
    try {
      return Buffer.from((await pool.run({ secret, salt, keylen: KEYLEN, ...p })) as Uint8Array);
    } catch (err) {
      if (err instanceof Error && /queue is at limit/i.test(err.message)) {
        throw new AppError(ErrorCode.RATE_LIMITED, 'too many token requests at once; try again shortly', { retryAfter: 1 });
      }
      throw err;
    }
  };
  return {
    async hash(secret) {
      const salt = randomBytes(16);
      const key = await derive(secret, salt, PARAMS);
      return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
    },
    async verify(secret, stored) {
      const [alg, n, r, p, salt, hash] = stored.split('$');
      if (alg !== 'scrypt' || !salt || !hash) return false;
      const expected = Buffer.from(hash, 'base64url');
      const key = await derive(secret, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
      return key.length === expected.length && timingSafeEqual(key, expected);
    },
    close: () => pool.destroy(),
  };
}
