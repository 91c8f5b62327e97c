import { CreateTarget } from '../graphql/operations.ts';
import { gql } from '../client/api.ts';
import { can, session } from '../client/session.ts';
import { reload, TARGET_KEY } from '../state/load.ts';
import { notify } from '../state/notices.ts';
import { signOut } from '../state/sign-in.ts';
import { activeModelId, liveState, panel, target, targets, view } from '../state/store.ts';

const LIVE_LABEL = { live: 'live', connecting: 'connecting…', retrying: 'reconnecting…', off: 'not connected' } as const;

async function newTarget() {
  const name = (prompt('Name of the new target (a product or camera station):') ?? '').trim();
  if (!name) return;
  try {
    const { createTarget } = await gql(CreateTarget, { name });
    localStorage.setItem(TARGET_KEY, createTarget.id);
    notify(`Target ${createTarget.name} created: add its OK pictures and train a model`);
    await reload();
  } catch (err) {
    notify(`Could not create target "${name}"`, err);
  }
}

function switchTarget(id: string) {
  localStorage.setItem(TARGET_KEY, id);
  // Not decided: the next load starts the results feed of the new target's active model.
  activeModelId.value = undefined;
  void reload();
}

/** Brand, target choice, connection state, who is signed in, admin and sign-out. */
export function HeaderBar() {
  const app = view.value === 'app';
  const user = session.value?.user;
  const current = target.value?.id ?? '';
  return (
    <header class="bar">
      <div class="brand">
        <span class="logo"></span>Spectro <span class="muted">line dashboard</span>
      </div>
      <div id="target-bar" class="row target" hidden={!app}>
        <select id="target-select" aria-label="Target" disabled={targets.value.length < 2} onChange={(e) => switchTarget(e.currentTarget.value)}>
          {targets.value.map((t) => (
            <option key={t.id} value={t.id} selected={t.id === current}>
              {t.name}
            </option>
          ))}
          {targets.value.length ? null : <option value="">No target yet</option>}
        </select>
        <button id="new-target" type="button" class="small" hidden={!can('TRAIN')} onClick={newTarget}>
          + Target
        </button>
      </div>
      <div class="spacer"></div>
      <span id="live" class="live" data-state={liveState.value} title="Connection to the gateway (live updates)">
        <i></i>
        <span>{LIVE_LABEL[liveState.value]}</span>
      </span>
      <span id="who" class="who" hidden={!app}>
        {app && user ? (
          <>
            <strong>{user.name}</strong>
            {` · ${user.role.toLowerCase()}`}
          </>
        ) : null}
      </span>
      <button
        id="open-admin"
        class="ghost"
        type="button"
        hidden={!app || !can('ADMIN')}
        title="People and API clients"
        onClick={() => (panel.value = { kind: 'admin' })}
      >
        Admin
      </button>
      <button id="sign-out" class="ghost" type="button" hidden={!app} onClick={() => void signOut()}>
        Sign out
      </button>
    </header>
  );
}
