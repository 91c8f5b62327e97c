import { RefreshSession, SignIn, SignOut } from '../graphql/operations.ts';
import { clearSession, onSessionEnded, setSession } from '../client/api.ts';
import { codeOf, messageOf } from '../client/failure.ts';
import { send } from '../client/transport.ts';
import { reload, scheduleReload } from './load.ts';
import { startTrainingFeed, stopFeeds } from './live.ts';
import { panel, signInMessage, view, viewer } from './store.ts';

/** Signed in: the app, the training feed, the target's data. */
export async function start() {
  view.value = 'app';
  startTrainingFeed(scheduleReload);
  await reload();
}

/** Stops everything signed-in; the session itself is ended by signOut (or already was). */
export function signedOut(message = '') {
  clearSession();
  stopFeeds();
  panel.value = null;
  viewer.value = null;
  signInMessage.value = message;
  view.value = 'signin';
}
onSessionEnded(signedOut);

export async function signIn(name: string, password: string) {
  signInMessage.value = '';
  try {
    const { signIn } = await send(SignIn, { name, password });
    setSession(signIn);
    await start();
    return true;
  } catch (err) {
    signInMessage.value = codeOf(err) === 'UNAUTHENTICATED' ? 'Wrong name or password.' : messageOf(err);
    return false;
  }
}

export async function signOut() {
  try {
    await send(SignOut, {});
  } catch {
    /* signed out here either way */
  }
  signedOut();
}

/** A browser that signed in before (the HttpOnly cookie) comes straight back in. */
export async function boot() {
  try {
    const { refreshSession } = await send(RefreshSession, {});
    setSession(refreshSession);
    await start();
  } catch (err) {
    const params = new URLSearchParams(location.search);
    const sso = params.get('sso_error');
    if (sso) history.replaceState(null, '', location.pathname);
    signedOut(sso ? `Single sign-on failed: ${sso}` : codeOf(err) === 'UNAUTHENTICATED' ? '' : `The gateway cannot be reached (${messageOf(err)}); try again.`);
  }
}
