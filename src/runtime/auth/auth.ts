import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import type { Config } from '../../config.ts';
import { AppError, ErrorCode, badInput } from '../../errors.ts';
import type { Store } from '../store/store.ts';
import { Scope } from '../store/types.ts';
import { requireStrongSecret } from '../../config-security.ts';
import { createRateLimits, type RateLimits } from '../limits/rate-limit.ts';
import { DUMMY_HASH, createSecretHasher } from './secret-hash.ts';

export interface Principal {
  clientId: string;
  scope: Scope;
  /** epoch seconds */
  expiresAt: number;
}

export interface Auth {
  /** OAuth2 client credentials. UNAUTHENTICATED (one message for unknown client and wrong secret). */
  issueToken(
    clientId: string,
    clientSecret: string,
    opts?: { source?: string | null },
  ): Promise<{ accessToken: string; tokenType: 'Bearer'; expiresIn: number }>;
  /** Accepts "Bearer <jwt>" or the bare JWT. UNAUTHENTICATED when missing, malformed, expired or forged. */
  verify(authorization: string | null | undefined): Promise<Principal>;
  /**
   * Makes sure the configured bootstrap client (SPECTRO_CLIENT_ID/SECRET, scope all) exists. With
   * none configured and no client at all, creates one and returns its credentials for the caller
   * to print once; null otherwise.
   */
  bootstrap(): Promise<{ clientId: string; clientSecret: string } | null>;
  createClient(scope: Scope, name?: string | null): Promise<{ clientId: string; clientSecret: string }>;
  /** Ends the hashing thread (and the limiter's Redis connection when auth made it). */
  close(): Promise<void>;
}

export const TOKEN_ISSUER = 'spectro-gateway';
export const TOKEN_AUDIENCE = 'spectro-gateway';
const JWT_KEY_SETTING = 'auth.jwtSecret';
const CLOCK_TOLERANCE_S = 5;
const BAD_CREDENTIALS = 'invalid client credentials';

const unauthenticated = (message: string) => new AppError(ErrorCode.UNAUTHENTICATED, message);
const isScope = (s: unknown): s is Scope => s === Scope.READ || s === Scope.ALL;

/** HS256 wants at least 256 bits of key; a shorter configured secret is stretched by hashing. */
function keyFrom(secret: string): Uint8Array {
  const raw = Buffer.from(secret, 'utf8');
  return raw.length >= 32 ? raw : createHash('sha256').update(raw).digest();
}

async function signingKey(store: Store, config: Config): Promise<Uint8Array> {
  if (config.jwtSecret) {
    // Anyone who guesses it signs tokens of any scope for any client.
    requireStrongSecret('JWT_SECRET', config.jwtSecret, 32);
    return keyFrom(config.jwtSecret);
  }
  // Instances starting at once on one database agree on the key: the first one stored wins.
  return keyFrom(await store.initSetting(JWT_KEY_SETTING, randomBytes(32).toString('base64url')));
}

const rateLimited = (retryAfter: number) =>
  new AppError(ErrorCode.RATE_LIMITED, `too many token requests; try again in ${retryAfter} s`, { retryAfter });

/**
 * `now` returns epoch milliseconds (Date.now by default). `limits`: the shared rate-limit counters
 * (Redis when configured); without them, counters of this process.
 */
export async function createAuth(deps: { store: Store; config: Config; now?: () => number; limits?: RateLimits }): Promise<Auth> {
  const { store, config } = deps;
  const now = deps.now ?? Date.now;
  const key = await signingKey(store, config);
  const ttl = config.tokenTtlSeconds;
  const sec = config.security;
  const ownLimits = deps.limits ? null : createRateLimits({ redisUrl: null, prefix: config.redisPrefix });
  const limits = deps.limits ?? ownLimits!;
  // Every attempt is counted before its hash runs (so a burst of concurrent guesses is counted at
  // once) and given back when it succeeds: the budgets only ever run out on failures.
  const perClient = limits.limiter('token-client', sec.tokenRatePerClient, sec.tokenRateWindowSeconds);
  const perSource = limits.limiter('token-source', sec.tokenRatePerSource, sec.tokenRateWindowSeconds);
  const hasher = createSecretHasher({ threads: sec.hashThreads, queue: sec.hashQueue });
  const hashSecret = (s: string) => hasher.hash(s);
  const verifySecret = (s: string, stored: string) => hasher.verify(s, stored);

  const createClient = async (scope: Scope, name: string | null = null) => {
    if (!isScope(scope)) throw badInput(`scope must be "read" or "all"`, { argument: 'scope' });
    const clientId = `spc_${randomBytes(12).toString('hex')}`;
    const clientSecret = randomBytes(32).toString('base64url');
    await store.createClient({ clientId, secretHash: await hashSecret(clientSecret), scope, name, createdAt: new Date(now()).toISOString() });
    return { clientId, clientSecret };
  };

  return {
    async issueToken(clientId, clientSecret, opts = {}) {
      if (typeof clientId !== 'string' || typeof clientSecret !== 'string' || !clientId || !clientSecret) {
        throw unauthenticated(BAD_CREDENTIALS);
      }
      const source = opts.source || 'unknown';
      const bySource = await perSource.consume(source);
      if (!bySource.ok) throw rateLimited(bySource.retryAfterSeconds);
      const byClient = await perClient.consume(clientId);
      if (!byClient.ok) throw rateLimited(byClient.retryAfterSeconds);
      const client = await store.clientById(clientId);
      const ok = await verifySecret(clientSecret, client?.secretHash ?? DUMMY_HASH);
      if (!client || !ok) throw unauthenticated(BAD_CREDENTIALS);
      await Promise.all([perSource.reward(source), perClient.reward(clientId)]);
      const iat = Math.floor(now() / 1000);
      const accessToken = await new SignJWT({ scope: client.scope })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setSubject(client.clientId)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttl)
        .setJti(randomUUID())
        .sign(key);
      return { accessToken, tokenType: 'Bearer', expiresIn: ttl };
    },

    async verify(authorization) {
      const header = authorization?.trim();
      if (!header) throw unauthenticated('a bearer token is required');
      const m = /^bearer\s+(\S+)$/i.exec(header);
      const token = m ? m[1]! : header;
      if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) throw unauthenticated('the token is malformed');
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          clockTolerance: CLOCK_TOLERANCE_S,
          currentDate: new Date(now()),
          requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        });
        if (!isScope(payload.scope) || typeof payload.sub !== 'string') throw unauthenticated('the token is invalid');
        return { clientId: payload.sub, scope: payload.scope, expiresAt: payload.exp! };
      } catch (err) {
        if (err instanceof AppError) throw err;
        if (err instanceof joseErrors.JWTExpired) throw unauthenticated('the token has expired');
        if (err instanceof joseErrors.JOSEError) throw unauthenticated('the token is invalid');
        throw err;
      }
    },

    async bootstrap() {
      const { clientId, clientSecret } = config;
      if (clientId || clientSecret) {
        if (!clientId || !clientSecret) {
          throw new Error('SPECTRO_CLIENT_ID and SPECTRO_CLIENT_SECRET must be set together');
        }
        // The bootstrap client has every scope: a short or trivial secret is refused at start.
        requireStrongSecret('SPECTRO_CLIENT_SECRET', clientSecret);
        const existing = await store.clientById(clientId);
        if (existing && existing.scope === Scope.ALL && (await verifySecret(clientSecret, existing.secretHash))) return null;
        const secretHash = await hashSecret(clientSecret);
        // The environment is the source of truth for the bootstrap client: a changed secret replaces the old one.
        if (existing) await store.updateClient(clientId, { secretHash, scope: Scope.ALL });
        else await store.createClient({ clientId, secretHash, scope: Scope.ALL, name: 'bootstrap', createdAt: new Date(now()).toISOString() });
        return null;
      }
      if ((await store.countClients()) > 0) return null;
      return createClient(Scope.ALL, 'bootstrap');
    },

    createClient,

    async close() {
      await hasher.close();
      await ownLimits?.close();
    },
  };
}
