import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import type { Config } from '../../config.ts';
import { AppError, ErrorCode, badInput } from '../../errors.ts';
import type { Store } from '../store/store.ts';
import { Scope } from '../store/types.ts';
import { DUMMY_HASH, hashSecret, verifySecret } from './secret-hash.ts';

export interface Principal {
  clientId: string;
  scope: Scope;
  /** epoch seconds */
  expiresAt: number;
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
  createClient(scope: Scope, name?: string | null): Promise<{ clientId: string; clientSecret: string }>;
}

export const TOKEN_ISSUER = 'spectro-gateway';
export const TOKEN_AUDIENCE = 'spectro-gateway';
const JWT_KEY_SETTING = 'auth.jwtSecret';
const CLOCK_TOLERANCE_S = 5;
/** Verified tokens remembered (each a few hundred bytes). */
const VERIFIED_TOKENS = 10_000;
const BAD_CREDENTIALS = 'invalid client credentials';

const unauthenticated = (message: string) => new AppError(ErrorCode.UNAUTHENTICATED, message);
const isScope = (s: unknown): s is Scope => s === Scope.READ || s === Scope.ALL;

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

  const createClient = async (scope: Scope, name: string | null = null) => {
    if (!isScope(scope)) throw badInput(`scope must be "read" or "all"`, { argument: 'scope' });
    const clientId = `spc_${randomBytes(12).toString('hex')}`;
    const clientSecret = randomBytes(32).toString('base64url');
    await store.createClient({ clientId, secretHash: await hashSecret(clientSecret), scope, name, createdAt: new Date(now()).toISOString() });
    return { clientId, clientSecret };
  };

  return {
    async issueToken(clientId, clientSecret) {
      if (typeof clientId !== 'string' || typeof clientSecret !== 'string' || !clientId || !clientSecret) {
        throw unauthenticated(BAD_CREDENTIALS);
      }
      const client = await store.clientById(clientId);
      const ok = await verifySecret(clientSecret, client?.secretHash ?? DUMMY_HASH);
      if (!client || !ok) throw unauthenticated(BAD_CREDENTIALS);
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
        if (!isScope(payload.scope) || typeof payload.sub !== 'string') throw unauthenticated('the token is invalid');
        const principal: Principal = { clientId: payload.sub, scope: payload.scope, expiresAt: payload.exp! };
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
  };
}
