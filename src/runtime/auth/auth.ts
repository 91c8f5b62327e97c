import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { Config } from '../../config.ts';
import { AppError, ErrorCode, badInput } from '../../errors.ts';
import type { Store } from '../store/store.ts';
import { Scope, type ClientRecord } from '../store/types.ts';
import { parseScopes, scopeText, type GrantedScope } from './scopes.ts';
import { requireStrongSecret } from '../../config-security.ts';
import { createRateLimits, type RateLimits } from '../limits/rate-limit.ts';
import { DUMMY_HASH, createSecretHasher } from './secret-hash.ts';

/** The setting that elects the one start which makes (and prints) the first client. */
const BOOTSTRAP_CLAIM = 'auth.bootstrapClaim';
const BOOTSTRAP_CLAIM_STALE_MS = 60_000;

export interface Principal {
  clientId: string;
  /** As the client holds it: `all`, or space-separated names (`read predict`). */
  scope: Scope;
  /** What that grants (`all` expanded). */
  scopes: ReadonlySet<GrantedScope>;
  /** epoch seconds */
  expiresAt: number;
  /** The person and browser session behind a dashboard token (`clientId` is then `user:<id>`); absent for API clients. */
  user?: { id: string; name: string; role: string; sessionId: string } | null;
}

/** Who a dashboard access token is for (runtime/auth/accounts.ts). */
/** Who acted, for histories: a person's name, else the API client's id. */
export const actorOf = (p: Principal | null | undefined): string | null => p?.user?.name ?? p?.clientId ?? null;

export interface UserTokenSubject {
  id: string;
  name: string;
  role: string;
  scopes: readonly GrantedScope[];
  sessionId: string;
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
  /** A short token for a signed-in person (SESSION_TOKEN_TTL_SECONDS). */
  issueUserToken(user: UserTokenSubject): Promise<{ accessToken: string; tokenType: 'Bearer'; expiresIn: number }>;
  /** Every API client (no secrets). */
  listClients(): Promise<ApiClient[]>;
  /** Revokes the client: its tokens are refused at once, here and (within CLIENT_CHECK_MS) on other instances. */
  revokeClient(clientId: string): Promise<ApiClient>;
  /** A new secret for the client (the old one stops working; tokens already issued stay valid until they expire). */
  rotateSecret(clientId: string): Promise<{ client: ApiClient; clientSecret: string }>;
  /** Ends the hashing thread (and the limiter's Redis connection when auth made it). */
  close(): Promise<void>;
}

/** An API client as admins see it. */
export interface ApiClient {
  clientId: string;
  name: string | null;
  scope: Scope;
  createdAt: string;
  revokedAt: string | null;
  rotatedAt: string | null;
}

const apiClient = (c: ClientRecord): ApiClient => ({
  clientId: c.clientId,
  name: c.name,
  scope: c.scope,
  createdAt: c.createdAt,
  revokedAt: c.revokedAt ?? null,
  rotatedAt: c.rotatedAt ?? null,
});

/** How long a client's record (live or revoked) is trusted before it is read again. */
export const CLIENT_CHECK_MS = 1000;

export const TOKEN_ISSUER = 'spectro-gateway';
export const TOKEN_AUDIENCE = 'spectro-gateway';
const JWT_KEY_SETTING = 'auth.jwtSecret';
const CLOCK_TOLERANCE_S = 5;
/** Verified tokens remembered (each a few hundred bytes). */
const VERIFIED_TOKENS = 10_000;
const BAD_CREDENTIALS = 'invalid client credentials';

const unauthenticated = (message: string) => new AppError(ErrorCode.UNAUTHENTICATED, message);

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

/**
 * Tokens of the plant's own identity provider (JWT_JWKS_URL): signed with a key it publishes,
 * from JWT_ISSUER for JWT_AUDIENCE; scopes from `scope` (or `scp`) in this gateway's vocabulary.
 * Their clients are the provider's, not this store's: revocation is the provider's too.
 */
function externalVerifier(sec: Config['security']) {
  const jwks = createRemoteJWKSet(new URL(sec.jwksUrl!), { timeoutDuration: 5000, cooldownDuration: 30_000 });
  return async (token: string, nowMs: number): Promise<Principal> => {
    const { payload } = await jwtVerify(token, jwks, {
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'],
      ...(sec.jwtIssuer ? { issuer: sec.jwtIssuer } : {}),
      audience: sec.jwtAudience,
      clockTolerance: CLOCK_TOLERANCE_S,
      currentDate: new Date(nowMs),
      requiredClaims: ['sub', 'exp'],
    });
    const raw = payload.scope ?? (Array.isArray(payload.scp) ? payload.scp.join(' ') : payload.scp);
    const scopes = parseScopes(raw);
    if (!scopes || typeof payload.sub !== 'string') throw unauthenticated('the token carries no scope this gateway knows');
    return { clientId: payload.sub, scope: scopeText(scopes), scopes, expiresAt: payload.exp! };
  };
}

const rateLimited = (retryAfter: number) => new AppError(ErrorCode.RATE_LIMITED, `too many token requests; try again in ${retryAfter} s`, { retryAfter });

/**
 * `now` returns epoch milliseconds (Date.now by default). `limits`: the shared rate-limit counters
 * (Redis when configured); without them, counters of this process.
 */
export async function createAuth(deps: { store: Store; config: Config; now?: () => number; limits?: RateLimits }): Promise<Auth> {
  const { store, config } = deps;
  const now = deps.now ?? Date.now;
  const key = await signingKey(store, config);
  // Key ids: tokens name the key that signed them, so the key can rotate without logging everyone
  // out: JWT_PREVIOUS_SECRET (the old JWT_SECRET) is still accepted until its tokens expire.
  const kidOf = (k: Uint8Array) => createHash('sha256').update(k).digest('base64url').slice(0, 16);
  const kid = kidOf(key);
  const previous = config.security.jwtPreviousSecret ? keyFrom(config.security.jwtPreviousSecret) : null;
  const keys = new Map<string, Uint8Array>([[kid, key], ...(previous ? [[kidOf(previous), previous] as [string, Uint8Array]] : [])]);
  const external = config.security.jwksUrl ? externalVerifier(config.security) : null;
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
  /** Tokens verified so far (oldest first, bounded): their principals. */
  const verified = new Map<string, Principal>();

  const createClient = async (scope: Scope, name: string | null = null) => {
    const scopes = parseScopes(scope);
    if (!scopes) throw badInput(`scope must be one or more of "read", "predict", "train", "admin" (or "all"), got "${scope}"`, { argument: 'scope' });
    const clientId = `spc_${randomBytes(12).toString('hex')}`;
    const clientSecret = randomBytes(32).toString('base64url');
    const text = scope === Scope.ALL || scope === Scope.READ ? scope : scopeText(scopes);
    await store.createClient({ clientId, secretHash: await hashSecret(clientSecret), scope: text, name, createdAt: new Date(now()).toISOString() });
    return { clientId, clientSecret };
  };

  // Tokens are checked against the live client on every request: a revoked (or deleted) client's
  // tokens stop working. The record is cached for CLIENT_CHECK_MS; a revocation here clears it.
  const live = new Map<string, { at: number; client: Promise<ClientRecord | null> }>();
  const requireLiveClient = async (clientId: string) => {
    const client = await clientNow(clientId);
    if (!client) throw unauthenticated("the token's client does not exist");
    if (client.revokedAt) throw unauthenticated("the token's client has been revoked");
  };
  const clientNow = (clientId: string) => {
    const hit = live.get(clientId);
    if (hit && now() - hit.at < CLIENT_CHECK_MS) return hit.client;
    const client = store.clientById(clientId);
    live.set(clientId, { at: now(), client });
    if (live.size > 10_000) live.delete(live.keys().next().value!);
    client.catch(() => live.delete(clientId));
    return client;
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
      if (!client || !ok || client.revokedAt) throw unauthenticated(BAD_CREDENTIALS);
      await Promise.all([perSource.reward(source), perClient.reward(clientId)]);
      const iat = Math.floor(now() / 1000);
      const accessToken = await new SignJWT({ scope: client.scope })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid })
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setSubject(client.clientId)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttl)
        .setJti(randomUUID())
        .sign(key);
      return { accessToken, tokenType: 'Bearer', expiresIn: ttl };
    },

    async issueUserToken(user) {
      const lifetime = config.sessionTokenTtlSeconds;
      const iat = Math.floor(now() / 1000);
      const accessToken = await new SignJWT({ scope: scopeText(new Set(user.scopes)), name: user.name, role: user.role, sid: user.sessionId })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid })
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setSubject(`user:${user.id}`)
        .setIssuedAt(iat)
        .setExpirationTime(iat + lifetime)
        .setJti(randomUUID())
        .sign(key);
      return { accessToken, tokenType: 'Bearer', expiresIn: lifetime };
    },

    async verify(authorization) {
      const header = authorization?.trim();
      if (!header) throw unauthenticated('a bearer token is required');
      const m = /^bearer\s+(\S+)$/i.exec(header);
      const token = m ? m[1]! : header;
      if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) throw unauthenticated('the token is malformed');
      // A token whose signature and claims were checked once is the same token next time: only
      // its expiry can change its answer. (Verifying the HMAC was an eighth of the server's time
      // on a dashboard's nested read, bench/graph.ts.)
      const known = verified.get(token);
      if (known) {
        if (known.expiresAt <= Math.floor(now() / 1000) - CLOCK_TOLERANCE_S) {
          verified.delete(token);
          throw unauthenticated('the token has expired');
        }
        // The signature was checked once; the client's standing is checked every time. (A
        // person's token is short; their session is checked at each renewal.)
        if (!known.user) await requireLiveClient(known.clientId);
        return { ...known };
      }
      try {
        let headerKid: string | undefined;
        let alg: string | undefined;
        try {
          ({ kid: headerKid, alg } = decodeProtectedHeader(token));
        } catch {
          throw unauthenticated('the token is malformed');
        }
        // Another issuer's token (JWT_JWKS_URL): verified with its published keys.
        if (external && alg !== 'HS256') return await external(token, now());
        // Tokens from before key ids: the current key, then the previous one.
        const candidates = headerKid !== undefined ? [keys.get(headerKid)].filter((k): k is Uint8Array => !!k) : [...keys.values()];
        if (candidates.length === 0) throw unauthenticated('the token is invalid');
        let checked: Awaited<ReturnType<typeof jwtVerify>> | null = null;
        for (const [i, k] of candidates.entries()) {
          try {
            checked = await jwtVerify(token, k, {
              algorithms: ['HS256'],
              issuer: TOKEN_ISSUER,
              audience: TOKEN_AUDIENCE,
              clockTolerance: CLOCK_TOLERANCE_S,
              currentDate: new Date(now()),
              requiredClaims: ['sub', 'exp', 'iat', 'jti'],
            });
            break;
          } catch (err) {
            if (!(err instanceof joseErrors.JWSSignatureVerificationFailed) || i === candidates.length - 1) throw err;
          }
        }
        const { payload } = checked!;
        const scopes = parseScopes(payload.scope);
        if (!scopes || typeof payload.sub !== 'string') throw unauthenticated('the token is invalid');
        let user: Principal['user'] = null;
        if (payload.sub.startsWith('user:')) {
          const { name, role, sid } = payload;
          if (typeof name !== 'string' || typeof role !== 'string' || typeof sid !== 'string') throw unauthenticated('the token is invalid');
          user = { id: payload.sub.slice(5), name, role, sessionId: sid };
        } else {
          await requireLiveClient(payload.sub);
        }
        const principal: Principal = { clientId: payload.sub, scope: payload.scope as Scope, scopes, expiresAt: payload.exp!, ...(user ? { user } : {}) };
        if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
        verified.set(token, principal);
        return { ...principal };
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
      // Several instances starting at once on one database (attack 11 of issue 9): one claim
      // wins and prints the client; the others print none. A claim whose start died before making
      // the client (still no client BOOTSTRAP_CLAIM_STALE_MS later) is taken over.
      const mine = `${randomUUID()}@${now()}`;
      const held = await store.initSetting(BOOTSTRAP_CLAIM, mine);
      if (held !== mine) {
        const at = Number(held.split('@')[1]);
        if (!(now() - at > BOOTSTRAP_CLAIM_STALE_MS)) return null;
        await store.setSetting(BOOTSTRAP_CLAIM, mine);
      }
      return createClient(Scope.ALL, 'bootstrap');
    },

    createClient,

    async listClients() {
      return (await store.listClients()).map(apiClient);
    },

    async revokeClient(clientId) {
      const client = await store.revokeClient(clientId, new Date(now()).toISOString());
      live.delete(clientId);
      return apiClient(client);
    },

    async rotateSecret(clientId) {
      const clientSecret = randomBytes(32).toString('base64url');
      const client = await store.rotateClientSecret(clientId, await hashSecret(clientSecret), new Date(now()).toISOString());
      live.delete(clientId);
      return { client: apiClient(client), clientSecret };
    },

    async close() {
      await hasher.close();
      await ownLimits?.close();
    },
  };
}
