import { ActivateModel, CancelTraining, DeleteModels } from '../graphql/operations.ts';
import { gql } from '../client/api.ts';
import { reload } from './load.ts';
import { notify } from './notices.ts';
import { models } from './store.ts';
import type { Model } from './types.ts';

export async function activate(m: Model) {
  const current = models.value.find((x) => x.active);
  const change = current ? `Live results switch from ${current.name} v${current.version} to it.` : 'It starts judging the pictures sent to this target.';
  if (!confirm(`Activate ${m.name} v${m.version}? ${change}`)) return;
  try {
    await gql(ActivateModel, { id: m.id });
    notify(`${m.name} is now the active model`);
    await reload();
  } catch (err) {
    notify(`Could not activate ${m.name}`, err);
  }
}

export async function removeModel(m: Model) {
  const warn = m.active ? ' It is the active model: the line gets no results until another one is activated.' : '';
  if (!confirm(`Delete ${m.name} v${m.version} with all its results?${warn}`)) return;
  try {
    await gql(DeleteModels, { ids: [m.id] });
    notify(`${m.name} deleted`);
    await reload();
  } catch (err) {
    notify(`Could not delete ${m.name}`, err);
  }
}

export async function cancel(m: Model) {
  try {
    await gql(CancelTraining, { modelId: m.id });
    await reload();
  } catch (err) {
    notify(`Could not cancel ${m.name}`, err);
  }
}
