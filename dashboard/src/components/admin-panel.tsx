import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ResultOf } from '../graphql/graphql.ts';
import {
  CreateApiClient,
  CreateUser,
  DeleteUser,
  People,
  RevokeApiClient,
  RevokeUserSessions,
  RotateApiClientSecret,
  UpdateUser,
} from '../graphql/operations.ts';
import { gql } from '../client/api.ts';
import { session } from '../client/session.ts';
import type { Doc } from '../client/transport.ts';
import { notify } from '../state/notices.ts';
import { ActionButton } from './action-button.tsx';
import { Dialog } from './dialog.tsx';

const ROLES = ['VIEWER', 'OPERATOR', 'ENGINEER', 'ADMIN'] as const;
type Role = (typeof ROLES)[number];
const SCOPES: Record<string, string[]> = { READ: ['read'], PREDICT: ['read', 'predict'], TRAIN: ['read', 'predict', 'train'], ADMIN: ['all'] };

/** People (roles, sessions) and API clients (machines), for admins. */
export function AdminPanel() {
  const [data, setData] = useState<ResultOf<typeof People> | null>(null);
  const [secret, setSecret] = useState<string | null>(null);

  async function refresh() {
    try {
      setData(await gql(People, {}));
    } catch (err) {
      notify('Could not list people and clients', err);
    }
  }
  useEffect(() => void refresh(), []);

  async function act<V>(done: string, doc: Doc<unknown, V>, variables: V) {
    try {
      await gql(doc, variables);
      notify(done);
    } catch (err) {
      notify('Not done', err);
    }
    await refresh();
  }

  async function showSecret(run: () => Promise<{ client: { clientId: string }; clientSecret: string }>) {
    try {
      const { client, clientSecret } = await run();
      setSecret(`client_id ${client.clientId}\nclient_secret ${clientSecret}\n(shown once: save it now)`);
    } catch (err) {
      notify('Not done', err);
    }
    await refresh();
  }

  const me = session.value?.user.id;
  const row = (key: string, cells: ComponentChildren[], actions: ComponentChildren) => (
    <tr key={key}>
      {cells.map((c, i) => (
        <td key={i}>{c}</td>
      ))}
      <td class="row">{actions}</td>
    </tr>
  );
  return (
    <Dialog id="admin" title="People & API clients">
      <h3>People</h3>
      <table class="list">
        <thead>
          <tr>
            <th>Name</th>
            <th>Role</th>
            <th>Sessions</th>
            <th></th>
          </tr>
        </thead>
        <tbody id="users">
          {(data?.users ?? []).map((u) =>
            row(
              u.id,
              [
                `${u.name}${me === u.id ? ' (you)' : ''}${u.disabled ? ' · disabled' : ''}`,
                <select
                  aria-label={`Role of ${u.name}`}
                  onChange={(e) => {
                    const role = e.currentTarget.value as Role;
                    void act(`${u.name} is now ${role.toLowerCase()} (signed out everywhere)`, UpdateUser, { id: u.id, role });
                  }}
                >
                  {ROLES.map((r) => (
                    <option key={r} value={r} selected={r === u.role}>
                      {r.toLowerCase()}
                    </option>
                  ))}
                </select>,
                String(u.sessions.length),
              ],
              <>
                <ActionButton label="Sign out everywhere" onClick={() => act(`${u.name} signed out everywhere`, RevokeUserSessions, { id: u.id })} />
                <ActionButton
                  label={u.disabled ? 'Enable' : 'Disable'}
                  onClick={() => act(`${u.name} ${u.disabled ? 'enabled' : 'disabled'}`, UpdateUser, { id: u.id, disabled: !u.disabled })}
                />
                {me === u.id ? null : (
                  <ActionButton label="Remove" onClick={() => confirm(`Remove ${u.name}?`) && act(`${u.name} removed`, DeleteUser, { id: u.id })} />
                )}
              </>,
            ),
          )}
        </tbody>
      </table>
      <form
        id="add-user"
        class="row"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const f = new FormData(form);
          const name = String(f.get('name') ?? '').trim();
          const role = String(f.get('role')) as Role;
          try {
            await gql(CreateUser, { name, role, password: String(f.get('password') ?? '') });
            notify(`${name} added as ${role.toLowerCase()}`);
            form.reset();
          } catch (err) {
            notify(`Could not add ${name}`, err);
          }
          await refresh();
        }}
      >
        <input name="name" placeholder="Name" aria-label="New person's name" required />
        <select name="role" aria-label="Role">
          {ROLES.map((r) => (
            <option key={r} value={r} selected={r === 'OPERATOR'}>
              {r.toLowerCase()}
            </option>
          ))}
        </select>
        <input
          name="password"
          type="password"
          placeholder="First password (8+)"
          aria-label="First password"
          autocomplete="new-password"
          required
          minLength={8}
        />
        <button type="submit" class="primary">
          Add person
        </button>
      </form>
      <h3>API clients (machines)</h3>
      <table class="list">
        <thead>
          <tr>
            <th>Name</th>
            <th>Client id</th>
            <th>Scopes</th>
            <th></th>
          </tr>
        </thead>
        <tbody id="clients">
          {(data?.apiClients ?? [])
            .filter((c) => !c.revokedAt)
            .map((c) =>
              row(
                c.clientId,
                [c.name || '–', c.clientId, c.scopes.map((x) => x.toLowerCase()).join(' ')],
                <>
                  <ActionButton
                    label="Rotate secret"
                    onClick={() =>
                      confirm(`New secret for ${c.name || c.clientId}? The old one stops working now.`) &&
                      showSecret(async () => (await gql(RotateApiClientSecret, { clientId: c.clientId })).rotateApiClientSecret)
                    }
                  />
                  <ActionButton
                    label="Revoke"
                    onClick={() =>
                      confirm(`Revoke ${c.name || c.clientId}? It can get no more tokens.`) &&
                      act(`${c.name || c.clientId} revoked`, RevokeApiClient, { clientId: c.clientId })
                    }
                  />
                </>,
              ),
            )}
        </tbody>
      </table>
      <form
        id="add-client"
        class="row"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const f = new FormData(form);
          const name = String(f.get('name') ?? '').trim() || null;
          const scopes = SCOPES[String(f.get('scopes'))] ?? ['read'];
          await showSecret(async () => (await gql(CreateApiClient, { name, scopes })).createApiClient);
          form.reset();
        }}
      >
        <input name="name" placeholder="Name, e.g. camera 3" aria-label="New client's name" />
        <select name="scopes" aria-label="Scopes">
          <option value="READ">read</option>
          <option value="PREDICT" selected>
            read + predict
          </option>
          <option value="TRAIN">+ train</option>
          <option value="ADMIN">all</option>
        </select>
        <button type="submit">Add client</button>
      </form>
      <div id="client-secret" class="secret" hidden={!secret}>
        {secret ?? ''}
      </div>
    </Dialog>
  );
}
