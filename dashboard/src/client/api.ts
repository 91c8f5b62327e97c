import type { ResultOf } from '../graphql/graphql.ts';
import type { SessionFields } from '../graphql/fragments.ts';
import { RefreshSession } from '../graphql/operations.ts';
import { operationName } from '../graphql/document.ts';
import { codeOf } from './failure.ts';
import { session } from './session.ts';
import { send, sendWithProgress, type Doc, type Files } from './transport.ts';

// Operations that work without an access token (the session cookie is theirs).
const SESSION_OPS = new Set(['SignIn', 'RefreshSession', 'SignOut']);

let renewing: Promise<boolean> | null = null;
let renewTimer: ReturnType<typeof setTimeout> | undefined;
let ended: (message: string) => void = () => undefined;

/** What to do when the session ends on its own (signed out elsewhere, revoked, expired). */
export function onSessionEnded(handler: (message: string) => void) {
  ended = handler;
}

export function setSession(s: ResultOf<typeof SessionFields>) {
  session.value = { token: s.accessToken, expiresAt: Date.now() + s.expiresIn * 1000, user: s.user };
  clearTimeout(renewTimer);
  // Renewed well before it runs out, so requests and live feeds never meet an expired token.
  renewTimer = setTimeout(() => void renew(), Math.max(2_000, s.expiresIn * 800));
}

export function clearSession() {
  session.value = null;
  clearTimeout(renewTimer);
}

/**
 * A fresh access token from the session cookie (which slides the session). True when renewed;
 * false when the session has ended: then the page shows the sign-in form. A gateway that cannot
 * be reached is tried again, signed in still.
 */
export function renew(): Promise<boolean> {
  renewing ??= (async () => {
    try {
      const { refreshSession } = await send(RefreshSession, {});
      setSession(refreshSession);
      return true;
    } catch (err) {
      if (codeOf(err) === 'UNAUTHENTICATED') {
        if (session.value) ended('Your session has ended; sign in again.');
        return false;
      }
      clearTimeout(renewTimer);
      renewTimer = setTimeout(() => void renew(), 10_000);
      return !!session.value && session.value.expiresAt > Date.now();
    } finally {
      renewing = null;
    }
  })();
  return renewing;
}

/**
 * One query or mutation. A refused token (expired, or the gateway restarted with a new key) is
 * renewed from the session cookie and the request sent once more: people stay signed in.
 */
export async function gql<R, V>(doc: Doc<R, V>, variables: V, files: Files | null = null): Promise<R> {
  try {
    return await send(doc, variables, files);
  } catch (err) {
    if (codeOf(err) !== 'UNAUTHENTICATED' || SESSION_OPS.has(operationName(doc)) || !session.value) throw err;
    if (!(await renew())) throw err;
    return send(doc, variables, files);
  }
}

/** An upload with progress (0..1), with the same token renewal as gql. */
export async function gqlUpload<R, V>(doc: Doc<R, V>, variables: V, files: Files, onProgress: (fraction: number) => void): Promise<R> {
  try {
    return await sendWithProgress(doc, variables, files, onProgress);
  } catch (err) {
    if (codeOf(err) !== 'UNAUTHENTICATED' || !session.value || !(await renew())) throw err;
    return sendWithProgress(doc, variables, files, onProgress);
  }
}
