import { scryptSync } from 'node:crypto';

/**
 * Runs in the secret-hashing thread (secret-hash.ts): scrypt synchronously here, so that it never
 * occupies libuv's 4-thread pool, which file I/O, DNS and sharp share with every request.
 */
export default function derive(task: { secret: string; salt: Uint8Array; N: number; r: number; p: number; keylen: number }): Uint8Array {
  return scryptSync(task.secret, task.salt, task.keylen, { N: task.N, r: task.r, p: task.p, maxmem: 256 * 1024 * 1024 });
}
