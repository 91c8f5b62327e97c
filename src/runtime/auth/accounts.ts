import { createHash, randomBytes } from 'node:crypto';
import type { Config } from '../../config.ts';
import { AppError, ErrorCode, badInput, notFound } from '../../errors.ts';
import type { Store } from '../store/store.ts';
import type { UserRecord, UserSessionRecord } from '../store/types.ts';
import type { Auth, Principal } from './auth.ts';
import { isRole, ROLE_SCOPES, ROLES, type Role } from './scopes.ts';
import { DUMMY_PASSWORD_HASH, hashPassword as hashScrypt, verifySecret as verifyScrypt } from './password-hash.ts';

/** What a signed-in page gets: a short access token and who it is; the session token goes in the cookie only. */
export interface SignedIn {
  sessionToken: string;
  /** When the session ends unless used again (each use slides it). */
  sessionExpiresAt: string;
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  user: UserRecord;
}

/** People: dashboard sign-in, roles, sessions. (API clients: runtime/auth/auth.ts.) */
export interface Accounts {
  /** BAD_USER_INPUT for a bad name, role or a password under 8 characters; CONFLICT for a taken name. */
  createUser(input: { name: string; role: string; password?: string | null }): Promise<{ user: UserRecord; password: string | null }>;
  listUsers(): Promise<UserRecord[]>;
  /** Disabling or changing the role signs the user out everywhere. The last enabled admin stays one. */
  updateUser(id: string, patch: { role?: string | null; disabled?: boolean | null; password?: string | null }): Promise<UserRecord>;
  deleteUser(id: string): Promise<void>;
  /** Signs the user out of every browser; answers how many sessions ended. */
  revokeSessions(userId: string): Promise<number>;
  sessionsOf(userId: string): Promise<UserSessionRecord[]>;
  /** UNAUTHENTICATED, one message for unknown name, wrong password and disabled user. */
  signIn(name: string, password: string, userAgent: string | null): Promise<SignedIn>;
  /**
   * A person the identity provider vouched for (single sign-on): their account (by name) is made
   * at the first sign-in, without a password, with the role claim's role or OIDC_DEFAULT_ROLE; a
   * valid role claim also updates the role at each sign-in. UNAUTHENTICATED for a disabled account.
   */
  signInExternal(identity: { name: string; role: string | null }, userAgent: string | null): Promise<SignedIn>;
  /** A fresh access token for a live session, sliding its expiry; UNAUTHENTICATED when it has ended. */
  refresh(sessionToken: string): Promise<SignedIn>;
  signOut(sessionToken: string): Promise<void>;
  /** The person a principal stands for (null for API clients). */
  userOf(principal: Principal): Promise<UserRecord | null>;
  changeOwnPassword(principal: Principal, current: string, next: string): Promise<void>;
  /** With no user at all, creates the first admin (ADMIN_NAME / ADMIN_PASSWORD); answers a generated password to print once. */
  bootstrapAdmin(): Promise<{ name: string; password: string } | null>;
}

const BAD_SIGN_IN = 'wrong name or password';
/**
 * Password hashes at once per process. Each takes 128 MiB and a thread of libuv's pool (which
 * file reads share): a burst of sign-ins waits here instead of starving everything else.
 */
const HASHES_AT_ONCE = 2;
/** Failed sign-ins of a name before it must wait; the wait doubles per further failure, up to a minute. */
const FREE_FAILURES = 5;
const MAX_WAIT_MS = 60_000;
/** Failures older than this are forgotten. */
const FAILURE_MEMORY_MS = 15 * 60_000;
const NAME = /^[A-Za-z0-9][\w.@-]{0,63}$/;
const MIN_PASSWORD = 8;

const unauthenticated = (m: string) => new AppError(ErrorCode.UNAUTHENTICATED, m);
/** Only the hash of a session token is stored (see migration 0006). */
export const sessionId = (token: string) => createHash('sha256').update(token).digest('base64url');

/** Runs `fn` when fewer than `limit` are running; the others wait in arrival order. */
function gate(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    // A finished run hands its slot straight to the next waiter, so none can slip in between.
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

export function createAccounts(deps: { store: Store; auth: Auth; config: Config; now?: () => number }): Accounts {
  const { store, auth, config } = deps;
  const hashing = gate(HASHES_AT_ONCE);
  // Per name, in this process: guessing a password gets slow fast, a mistyped one costs nothing.
  const failures = new Map<string, { count: number; last: number; notBefore: number }>();
  const throttle = (name: string) => {
    const f = failures.get(name);
    if (!f) return;
    if (now() - f.last > FAILURE_MEMORY_MS) failures.delete(name);
    else if (now() < f.notBefore) {
      const s = Math.ceil((f.notBefore - now()) / 1000);
      throw new AppError(ErrorCode.RATE_LIMITED, `too many failed sign-ins for "${name}"; try again in ${s} s`, { retryAfterSeconds: s });
    }
  };
  const failed = (name: string) => {
    const f = failures.get(name) ?? { count: 0, last: 0, notBefore: 0 };
    f.count++;
    f.last = now();
    if (f.count >= FREE_FAILURES) f.notBefore = f.last + Math.min(MAX_WAIT_MS, 1000 * 2 ** (f.count - FREE_FAILURES));
    failures.set(name, f);
    // Bounded: the oldest names go first.
    if (failures.size > 10_000) failures.delete(failures.keys().next().value!);
  };
  const hashPassword = (password: string) => hashing(() => hashScrypt(password, config.passwordScryptLog2N));
  const verifySecret = (password: string, hash: string) => hashing(() => verifyScrypt(password, hash));
  const now = deps.now ?? Date.now;
  const expiry = () => new Date(now() + config.sessionTtlSeconds * 1000).toISOString();

  const checkPassword = (password: string) => {
    if (password.length < MIN_PASSWORD) throw badInput(`the password must have at least ${MIN_PASSWORD} characters`, { argument: 'password' });
  };
  const checkRole = (role: string): Role => {
    if (!isRole(role)) throw badInput(`role must be one of ${ROLES.join(', ')}; got "${role}"`, { argument: 'role' });
    return role;
  };
  const existing = async (id: string) => (await store.userById(id)) ?? Promise.reject(notFound('User', id));
  /** Refuses a change that would leave no enabled admin to manage people. */
  const keepAnAdmin = async (user: UserRecord) => {
    if (user.role === 'admin' && !user.disabled && (await store.countUsers('admin')) <= 1) {
      throw new AppError(ErrorCode.CONFLICT, `"${user.name}" is the last admin; make someone else admin first`);
    }
  };

  const tokenFor = async (user: UserRecord, session: { id: string; expiresAt: string }, sessionToken: string): Promise<SignedIn> => {
    const role = checkRole(user.role);
    const token = await auth.issueUserToken({ id: user.id, name: user.name, role, scopes: ROLE_SCOPES[role], sessionId: session.id });
    return { sessionToken, sessionExpiresAt: session.expiresAt, ...token, user };
  };

  return {
    async createUser({ name, role, password }) {
      const n = name.trim();
      if (!NAME.test(n)) throw badInput('a name is 1 to 64 letters, digits and . _ @ -, starting with a letter or digit', { argument: 'name' });
      checkRole(role);
      const generated = password ? null : randomBytes(12).toString('base64url');
      const plain = password ?? generated!;
      checkPassword(plain);
      const user = await store.createUser({ name: n, role, passwordHash: await hashPassword(plain) });
      return { user, password: generated };
    },
    listUsers: () => store.listUsers(),
    async updateUser(id, patch) {
      const user = await existing(id);
      if (patch.role != null) checkRole(patch.role);
      if (patch.password != null) checkPassword(patch.password);
      const demoted = patch.role != null && patch.role !== 'admin';
      if (demoted || patch.disabled === true) await keepAnAdmin(user);
      const updated = await store.updateUser(id, {
        ...(patch.role != null ? { role: patch.role } : {}),
        ...(patch.disabled != null ? { disabled: patch.disabled } : {}),
        ...(patch.password != null ? { passwordHash: await hashPassword(patch.password) } : {}),
      });
      // A session holds what the person may do until its next refresh: end it when that changes.
      if ((patch.role != null && patch.role !== user.role) || patch.disabled === true || patch.password != null) {
        await store.revokeUserSessions(id);
      }
      return updated;
    },
    async deleteUser(id) {
      await keepAnAdmin(await existing(id));
      await store.deleteUser(id);
    },
    async revokeSessions(userId) {
      await existing(userId);
      return store.revokeUserSessions(userId);
    },
    sessionsOf: (userId) => store.sessionsOfUser(userId),

    async signIn(name, password, userAgent) {
      if (typeof name !== 'string' || typeof password !== 'string' || !name || !password) throw unauthenticated(BAD_SIGN_IN);
      const key = name.trim().toLowerCase();
      throttle(key);
      const user = await store.userByName(name.trim());
      // Verified against a dummy for unknown names, so timing does not tell which names exist.
      const ok = await verifySecret(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
      if (!user || !ok || user.disabled) {
        failed(key);
        throw unauthenticated(BAD_SIGN_IN);
      }
      failures.delete(key);
      const sessionToken = randomBytes(32).toString('base64url');
      const session = await store.createSession({
        id: sessionId(sessionToken),
        userId: user.id,
        userAgent: userAgent?.slice(0, 200) ?? null,
        expiresAt: expiry(),
      });
      return tokenFor(user, session, sessionToken);
    },
    async signInExternal(identity, userAgent) {
      const claimed = identity.role && isRole(identity.role) ? identity.role : null;
      let user = await store.userByName(identity.name);
      if (!user) {
        try {
          user = await store.createUser({ name: identity.name, role: claimed ?? config.oidc?.defaultRole ?? 'viewer', passwordHash: null });
        } catch (err) {
          // Two first sign-ins at once: the other made it.
          if (!(err instanceof AppError && err.code === ErrorCode.CONFLICT)) throw err;
          user = (await store.userByName(identity.name))!;
        }
      } else if (claimed && claimed !== user.role) {
        user = await store.updateUser(user.id, { role: claimed });
      }
      if (user.disabled) throw unauthenticated(`the account "${user.name}" is disabled`);
      const sessionToken = randomBytes(32).toString('base64url');
      const session = await store.createSession({
        id: sessionId(sessionToken),
        userId: user.id,
        userAgent: userAgent?.slice(0, 200) ?? null,
        expiresAt: expiry(),
      });
      return tokenFor(user, session, sessionToken);
    },
    async refresh(sessionToken) {
      const ended = unauthenticated('the session has ended; sign in again');
      if (!sessionToken) throw ended;
      const session = await store.liveSession(sessionId(sessionToken));
      if (!session) throw ended;
      const user = await store.userById(session.userId);
      if (!user || user.disabled) throw ended;
      const expiresAt = expiry();
      await store.renewSession(session.id, expiresAt);
      return tokenFor(user, { id: session.id, expiresAt }, sessionToken);
    },
    async signOut(sessionToken) {
      if (sessionToken) await store.revokeSession(sessionId(sessionToken));
    },
    async userOf(principal) {
      return principal.user ? store.userById(principal.user.id) : null;
    },
    async changeOwnPassword(principal, current, next) {
      const user = principal.user ? await store.userById(principal.user.id) : null;
      if (!user) throw new AppError(ErrorCode.FORBIDDEN, 'only a signed-in person has a password to change');
      if (!user.passwordHash || !(await verifySecret(current, user.passwordHash)))
        throw badInput('the current password is wrong', { argument: 'currentPassword' });
      checkPassword(next);
      await store.updateUser(user.id, { passwordHash: await hashPassword(next) });
      // Every other browser signs in again with the new password.
      for (const s of await store.sessionsOfUser(user.id)) if (s.id !== principal.user!.sessionId) await store.revokeSession(s.id);
    },
    async bootstrapAdmin() {
      if ((await store.countUsers()) > 0) return null;
      try {
        const { user, password } = await this.createUser({ name: config.adminName, role: 'admin', password: config.adminPassword });
        return password ? { name: user.name, password } : null;
      } catch (err) {
        // Another instance on the same database made it first.
        if (err instanceof AppError && err.code === ErrorCode.CONFLICT) return null;
        throw err;
      }
    },
  };
}
