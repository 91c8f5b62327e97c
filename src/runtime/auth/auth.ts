import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import type { Config } from '../../config.ts';
import { AppError, ErrorCode, badInput } from '../../errors.ts';
import type { Store } from '../store/store.ts';
import { Scope } from '../store/types.ts';
import { parseScopes, scopeClaim, type ScopeName } from './scopes.ts';
import { DUMMY_HASH, hashSecret, verifySecret } from './secret-hash.ts';

export interface Principal {
  /** The token's subject: an API client's id, or `user:<id>` for a person. */
  clientId: string;
  /** The scope claim as the token has it (`all`, or a list such as `read predict`). */
  scope: string;
  /** What the claim grants (see scopes.ts). */
  scopes: ReadonlySet<ScopeName>;
  /** epoch seconds */
  expiresAt: number;
  /** The person and browser session behind a dashboard token; null for API clients. */
  user: { id: string; name: string; role: string; sessionId: string } | null;
}

export interface UserTokenSubject {
  id: string;
  name: string;
  role: string;
  scopes: readonly ScopeName[];
  sessionId: string;
}

export interface Auth {
  /** OAuth2 client credentials. UNAUTHENTICATED (one message for unknown client and wrong secret). */
  issueToken(clientId: string, clientSecret: string): Promise<{ accessToken: string; tokenType: 'Bearer'; expiresIn: number }>;
  /** Accepts "Bearer <jwt>" or the bare JWT. UNAUTHENTICATED when missing, malformed, expired or forged. */
  verify(authorization: string | null | undefined): Promise<Principal>;
  /**
   * Makes sure the configured bootstrap client (SPECTRO_CLIENT_ID/SECRET, scope all) exists. With
   * none configured and no client at all, creates one and returns its credentials for the caller
   * to print once; null otherwise.
   */
  bootstrap(): Promise<{ clientId: string; clientSecret: string } | null>;
  /** `scope`: a scope claim (`all`, `read`, `read predict`…). BAD_USER_INPUT when it names an unknown scope. */
  createClient(scope: string, name?: string | null): Promise<{ clientId: string; clientSecret: string }>;
  /** A new secret for the client (the old one stops working); NOT_FOUND when there is none. */
  rotateClientSecret(clientId: string): Promise<{ clientId: string; clientSecret: string }>;
  /** A short token for a signed-in person (SESSION_TOKEN_TTL_SECONDS). */
  issueUserToken(user: UserTokenSubject): Promise<{ accessToken: string; tokenType: 'Bearer'; expiresIn: number }>;
}

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
  if (config.jwtSecret) return keyFrom(config.jwtSecret);
  // Instances starting at once on one database agree on the key: the first one stored wins.
  return keyFrom(await store.initSetting(JWT_KEY_SETTING, randomBytes(32).toString('base64url')));
}

/** `now` returns epoch milliseconds (Date.now by default). */
export async function createAuth(deps: { store: Store; config: Config; now?: () => number }): Promise<Auth> {
  const { store, config } = deps;
  const now = deps.now ?? Date.now;
  const key = await signingKey(store, config);
  const ttl = config.tokenTtlSeconds;
  /** Tokens verified so far (oldest first, bounded): their principals. */
  const verified = new Map<string, Principal>();

  const createClient = async (scope: string, name: string | null = null) => {
    const scopes = parseScopes(scope);
    if (!scopes) throw badInput(`scope must be "all" or a list of read, predict, train, admin; got "${scope}"`, { argument: 'scope' });
    const clientId = `spc_${randomBytes(12).toString('hex')}`;
    const clientSecret = randomBytes(32).toString('base64url');
    await store.createClient({ clientId, secretHash: await hashSecret(clientSecret), scope: scopeClaim(scopes) as Scope, name, createdAt: new Date(now()).toISOString() });
    return { clientId, clientSecret };
  };

  const sign = (claims: Record<string, unknown>, subject: string, lifetime: number) => {
    const iat = Math.floor(now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(subject)
      .setIssuedAt(iat)
      .setExpirationTime(iat + lifetime)
      .setJti(randomUUID())
      .sign(key);
  };

  return {
    async issueToken(clientId, clientSecret) {
      if (typeof clientId !== 'string' || typeof clientSecret !== 'string' || !clientId || !clientSecret) {
        throw unauthenticated(BAD_CREDENTIALS);
      }
      const client = await store.clientById(clientId);
      const ok = await verifySecret(clientSecret, client?.secretHash ?? DUMMY_HASH);
      if (!client || !ok) throw unauthenticated(BAD_CREDENTIALS);
      const accessToken = await sign({ scope: client.scope }, client.clientId, ttl);
      return { accessToken, tokenType: 'Bearer', expiresIn: ttl };
    },

    async issueUserToken(user) {
      const lifetime = config.sessionTokenTtlSeconds;
      const claims = { scope: scopeClaim(user.scopes), name: user.name, role: user.role, sid: user.sessionId };
      return { accessToken: await sign(claims, `user:${user.id}`, lifetime), tokenType: 'Bearer', expiresIn: lifetime };
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
        return { ...known };
      }
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          clockTolerance: CLOCK_TOLERANCE_S,
          currentDate: new Date(now()),
          requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        });
        const scopes = parseScopes(payload.scope);
        if (!scopes || typeof payload.sub !== 'string') throw unauthenticated('the token is invalid');
        let user: Principal['user'] = null;
        if (payload.sub.startsWith('user:')) {
          const { name, role, sid } = payload;
          if (typeof name !== 'string' || typeof role !== 'string' || typeof sid !== 'string') throw unauthenticated('the token is invalid');
          user = { id: payload.sub.slice(5), name, role, sessionId: sid };
        }
        const principal: Principal = { clientId: payload.sub, scope: payload.scope as string, scopes, expiresAt: payload.exp!, user };
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

    async rotateClientSecret(clientId) {
      const clientSecret = randomBytes(32).toString('base64url');
      await store.updateClient(clientId, { secretHash: await hashSecret(clientSecret) });
      return { clientId, clientSecret };
    },
  };
}
